// src/kms/ops/crypto.ts
//
// Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateDataKeyPair(WithoutPlaintext)
// and GenerateRandom. Symmetric keys seal a versioned blob (blob.ts) with AES-256-GCM in the HSM,
// binding the encryption context; RSA keys encrypt with OAEP and return the raw ciphertext, as KMS
// does. A blob that does not open is InvalidCiphertextException, with no message (as KMS).

import { generateKeyPairSync } from 'node:crypto';

import type { KeyHandle } from '../../client/key_handle.js';
import { HsmError, HsmIntegrityError } from '../../errors.js';
import { aad, assemble, checkContext, header, MAX_BLOB, parse, type EncryptionContext } from '../blob.js';
import { KmsError, invalidCiphertext, validation } from '../errors.js';
import { algorithmHash } from '../specs.js';
import { blob, int, requireUsage, resolveKey, specOf, stopIfDryRun, str, usable, type Caller, type Handler, type Service } from '../service.js';
import type { KeyRecord } from '../store.js';

// RSAES-OAEP plaintext limits (spec/kms.md §2.1).
const OAEP_MAX: Record<number, Record<string, number>> = {
  2048: { RSAES_OAEP_SHA_1: 214, RSAES_OAEP_SHA_256: 190 }, 3072: { RSAES_OAEP_SHA_1: 342, RSAES_OAEP_SHA_256: 318 }, 4096: { RSAES_OAEP_SHA_1: 470, RSAES_OAEP_SHA_256: 446 },
};

function algorithm(req: Record<string, unknown>, name: string, rec: KeyRecord): string {
  const spec = specOf(rec);
  const alg = str(req, name, false) ?? 'SYMMETRIC_DEFAULT';
  if (!spec.encryptionAlgorithms?.includes(alg)) throw new KmsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${rec.KeySpec}.`);
  return alg;
}

const ciphertextOf = (r: { ciphertext: Buffer; iv: Buffer } | Buffer): { ciphertext: Buffer; iv: Buffer } => (Buffer.isBuffer(r) ? { ciphertext: r, iv: Buffer.alloc(0) } : r);

/** Seals with the key's current material. */
export async function seal(svc: Service, rec: KeyRecord, plaintext: Uint8Array, ctx: EncryptionContext): Promise<Buffer> {
  const hdr = header({ keyId: rec.KeyId, version: rec.currentVersion });
  const key = await svc.store.material(rec, rec.currentVersion);
  const iv = await svc.store.hsm.random(12); // the CloudHSM profiles write their own IV here
  const { ciphertext, iv: used } = ciphertextOf(await key.encrypt(plaintext, { name: 'AES_GCM', iv, aad: aad(hdr, ctx) }));
  const out = assemble(hdr, used, ciphertext);
  if (out.length > MAX_BLOB) throw validation(`the ciphertext would be longer than ${MAX_BLOB} bytes`);
  return out;
}

/** Opens a blob: the key it names (IncorrectKeyException if the caller named another), its state,
 *  the material version, and the GCM tag over header and context. */
async function open(svc: Service, c: Caller, data: Buffer, ctx: EncryptionContext, keyId: string | undefined, allowPending: boolean): Promise<{ rec: KeyRecord; plaintext: Buffer }> {
  const b = parse(data);
  const named = keyId === undefined ? undefined : await resolveKey(svc, c, keyId);
  const rec = svc.store.keys.get(b.header.keyId);
  if (rec === undefined || rec.AWSAccountId !== c.account || rec.Region !== c.region) throw invalidCiphertext();
  if (named !== undefined && named.KeyId !== rec.KeyId) throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
  if (!(allowPending && rec.KeyState === 'PendingDeletion')) usable(rec);
  if (b.header.version < 1 || b.header.version > rec.currentVersion) throw invalidCiphertext();
  const key = await svc.store.material(rec, b.header.version);
  try {
    return { rec, plaintext: await key.decrypt(b.sealed, { name: 'AES_GCM', iv: b.iv, aad: aad(b.raw, ctx) }) };
  } catch (e) {
    if (e instanceof HsmIntegrityError || (e instanceof HsmError && /ENCRYPTED_DATA|AEAD/.test(e.code))) throw invalidCiphertext();
    throw e;
  }
}

function rsaMechanism(alg: string) {
  return { name: 'RSA_PKCS_OAEP' as const, hash: algorithmHash(alg) };
}

/** RSAES-OAEP takes at most so many bytes (ValidationException otherwise). */
function checkOaepLength(rec: KeyRecord, alg: string, plaintext: Buffer): void {
  const max = OAEP_MAX[specOf(rec).bits!]![alg]!;
  if (plaintext.length > max) throw validation(`Algorithm ${alg} and key spec ${rec.KeySpec} cannot encrypt data larger than ${max} bytes.`);
}

async function rsaEncrypt(svc: Service, rec: KeyRecord, alg: string, plaintext: Buffer): Promise<Buffer> {
  checkOaepLength(rec, alg, plaintext);
  const pub = await svc.store.material(rec, 0, 'public-key');
  return pub.encrypt(plaintext, rsaMechanism(alg)) as Promise<Buffer>;
}

async function rsaDecrypt(svc: Service, rec: KeyRecord, alg: string, data: Buffer): Promise<Buffer> {
  const priv: KeyHandle = await svc.store.material(rec, 0, 'private-key');
  try {
    return await priv.decrypt(data, rsaMechanism(alg));
  } catch (e) {
    if (e instanceof HsmError) throw invalidCiphertext();
    throw e;
  }
}

const Encrypt: Handler = async (req, c, svc) => {
  const rec = usable(await resolveKey(svc, c, str(req, 'KeyId')!));
  requireUsage(rec, 'ENCRYPT_DECRYPT', 'Encrypt');
  const plaintext = blob(req, 'Plaintext', 4096)!;
  const alg = algorithm(req, 'EncryptionAlgorithm', rec);
  if (specOf(rec).kind === 'rsa') {
    if (req.EncryptionContext !== undefined) throw validation('EncryptionContext is not supported with asymmetric keys');
    checkOaepLength(rec, alg, plaintext);
    stopIfDryRun(req);
    return { body: { CiphertextBlob: (await rsaEncrypt(svc, rec, alg, plaintext)).toString('base64'), KeyId: rec.Arn, EncryptionAlgorithm: alg }, keyArn: rec.Arn };
  }
  const ctx = checkContext(req.EncryptionContext);
  stopIfDryRun(req);
  return { body: { CiphertextBlob: (await seal(svc, rec, plaintext, ctx)).toString('base64'), KeyId: rec.Arn, EncryptionAlgorithm: alg }, keyArn: rec.Arn };
};

/** Decrypt's work, shared with ReEncrypt (its source side). */
async function decryptRequest(svc: Service, c: Caller, data: Buffer, ctxIn: unknown, keyId: string | undefined, algIn: string | undefined, allowPending: boolean) {
  if (keyId !== undefined) {
    const named = await resolveKey(svc, c, keyId);
    if (specOf(named).kind === 'rsa') {
      if (!(allowPending && named.KeyState === 'PendingDeletion')) usable(named);
      requireUsage(named, 'ENCRYPT_DECRYPT', 'Decrypt');
      const alg = algIn ?? 'SYMMETRIC_DEFAULT';
      if (!specOf(named).encryptionAlgorithms!.includes(alg)) throw new KmsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${named.KeySpec}.`);
      return { rec: named, plaintext: await rsaDecrypt(svc, named, alg, data), alg };
    }
  }
  if (algIn !== undefined && algIn !== 'SYMMETRIC_DEFAULT') throw new KmsError('InvalidKeyUsageException', `Algorithm ${algIn} is incompatible with a symmetric key.`);
  const { rec, plaintext } = await open(svc, c, data, checkContext(ctxIn), keyId, allowPending);
  return { rec, plaintext, alg: 'SYMMETRIC_DEFAULT' };
}

const Decrypt: Handler = async (req, c, svc) => {
  const data = blob(req, 'CiphertextBlob', MAX_BLOB)!;
  const { rec, plaintext, alg } = await decryptRequest(svc, c, data, req.EncryptionContext, str(req, 'KeyId', false), str(req, 'EncryptionAlgorithm', false), false);
  stopIfDryRun(req, plaintext);
  return { body: { KeyId: rec.Arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: alg }, keyArn: rec.Arn };
};

const ReEncrypt: Handler = async (req, c, svc) => {
  const data = blob(req, 'CiphertextBlob', MAX_BLOB)!;
  const dest = usable(await resolveKey(svc, c, str(req, 'DestinationKeyId')!));
  requireUsage(dest, 'ENCRYPT_DECRYPT', 'ReEncrypt');
  const source = await decryptRequest(svc, c, data, req.SourceEncryptionContext, str(req, 'SourceKeyId', false), str(req, 'SourceEncryptionAlgorithm', false), true);
  const destAlg = algorithm(req, 'DestinationEncryptionAlgorithm', dest);
  // The destination's checks and DryRun, with the source plaintext wiped on the way out.
  let destCtx: EncryptionContext | undefined;
  try {
    if (specOf(dest).kind === 'rsa') checkOaepLength(dest, destAlg, source.plaintext);
    else destCtx = checkContext(req.DestinationEncryptionContext);
    stopIfDryRun(req);
  } catch (e) {
    source.plaintext.fill(0);
    throw e;
  }
  const out = specOf(dest).kind === 'rsa'
    ? await rsaEncrypt(svc, dest, destAlg, source.plaintext)
    : await seal(svc, dest, source.plaintext, destCtx!);
  source.plaintext.fill(0);
  return {
    body: { CiphertextBlob: out.toString('base64'), SourceKeyId: source.rec.Arn, KeyId: dest.Arn, SourceEncryptionAlgorithm: source.alg, DestinationEncryptionAlgorithm: destAlg },
    keyArn: dest.Arn,
  };
};

async function dataKey(req: Record<string, unknown>, c: Caller, svc: Service, withPlaintext: boolean) {
  const rec = usable(await resolveKey(svc, c, str(req, 'KeyId')!));
  requireUsage(rec, 'ENCRYPT_DECRYPT', withPlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext');
  if (specOf(rec).kind !== 'symmetric') throw new KmsError('InvalidKeyUsageException', `${rec.Arn} is an asymmetric key; data keys need a symmetric key.`);
  const spec = str(req, 'KeySpec', false);
  const n = int(req, 'NumberOfBytes', 1, 1024);
  if ((spec === undefined) === (n === undefined)) throw validation('Please specify either number of bytes or key spec.');
  if (spec !== undefined && spec !== 'AES_256' && spec !== 'AES_128') throw validation(`Value '${spec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`);
  const ctx = checkContext(req.EncryptionContext);
  stopIfDryRun(req);
  const plaintext = await svc.store.hsm.random(n ?? (spec === 'AES_128' ? 16 : 32));
  const ciphertext = await seal(svc, rec, plaintext, ctx);
  const body: Record<string, unknown> = { CiphertextBlob: ciphertext.toString('base64'), KeyId: rec.Arn, KeyMaterialId: rec.materialIds[rec.currentVersion - 1] };
  if (withPlaintext) body.Plaintext = plaintext.toString('base64');
  plaintext.fill(0);
  return { body, keyArn: rec.Arn };
}

const GenerateDataKey: Handler = (req, c, svc) => dataKey(req, c, svc, true);
const GenerateDataKeyWithoutPlaintext: Handler = (req, c, svc) => dataKey(req, c, svc, false);

// Data key pairs are the caller's keys (KMS hands the private key out): made with node:crypto, the
// private key sealed under the KMS key so Decrypt opens it.
const PAIR_SPECS: Record<string, () => ReturnType<typeof generateKeyPairSync>> = {
  RSA_2048: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), RSA_3072: () => generateKeyPairSync('rsa', { modulusLength: 3072 }),
  RSA_4096: () => generateKeyPairSync('rsa', { modulusLength: 4096 }),
  ECC_NIST_P256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), ECC_NIST_P384: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ECC_NIST_P521: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }), ECC_SECG_P256K1: () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }),
  ECC_NIST_EDWARDS25519: () => generateKeyPairSync('ed25519'),
};

async function dataKeyPair(req: Record<string, unknown>, c: Caller, svc: Service, withPlaintext: boolean) {
  const rec = usable(await resolveKey(svc, c, str(req, 'KeyId')!));
  requireUsage(rec, 'ENCRYPT_DECRYPT', 'GenerateDataKeyPair');
  if (specOf(rec).kind !== 'symmetric') throw new KmsError('InvalidKeyUsageException', `${rec.Arn} is an asymmetric key; data key pairs need a symmetric key.`);
  const spec = str(req, 'KeyPairSpec')!;
  const make = PAIR_SPECS[spec];
  if (make === undefined) throw validation(`Value '${spec}' at 'keyPairSpec' failed to satisfy constraint: Member must satisfy enum value set: [${Object.keys(PAIR_SPECS).join(', ')}]`);
  const ctx = checkContext(req.EncryptionContext);
  stopIfDryRun(req);
  const { privateKey, publicKey } = make();
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const sealed = await seal(svc, rec, pkcs8, ctx);
  const body: Record<string, unknown> = {
    PrivateKeyCiphertextBlob: sealed.toString('base64'), PublicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), KeyId: rec.Arn, KeyPairSpec: spec,
  };
  if (withPlaintext) body.PrivateKeyPlaintext = pkcs8.toString('base64');
  pkcs8.fill(0);
  return { body, keyArn: rec.Arn };
}

const GenerateDataKeyPair: Handler = (req, c, svc) => dataKeyPair(req, c, svc, true);
const GenerateDataKeyPairWithoutPlaintext: Handler = (req, c, svc) => dataKeyPair(req, c, svc, false);

const GenerateRandom: Handler = async (req, _c, svc) => {
  if (req.CustomKeyStoreId !== undefined) throw new KmsError('CustomKeyStoreNotFoundException', 'There is no custom key store here; the HSM is the key store');
  const n = int(req, 'NumberOfBytes', 1, 1024);
  if (n === undefined) throw validation("Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null");
  return { body: { Plaintext: (await svc.store.hsm.random(n)).toString('base64') } };
};

export const CRYPTO_OPERATIONS: Record<string, Handler> = {
  Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext, GenerateRandom,
};
