// src/kms/ops/signing.ts
//
// Sign, Verify and GetPublicKey with RSA and ECC keys, GenerateMac and VerifyMac with HMAC keys.
// MessageType RAW is hashed in the HSM; DIGEST must be the hash's length. ECDSA signatures are DER
// (X9.62), as KMS returns them; a signature or MAC that does not verify is an error
// (KMSInvalidSignatureException / KMSInvalidMacException), never `false`.

import type { SignMechanism } from '../../client/mechanisms.js';
import { curveByName } from '../../keys/curves.js';
import { HASH_BYTES, digestInfo } from '../../keys/digest_info.js';
import { derToP1363, p1363ToDer } from '../../keys/ecdsa_sig.js';
import { KmsError, validation } from '../errors.js';
import { algorithmHash } from '../specs.js';
import { blob, requireUsage, resolveKey, specOf, stopIfDryRun, str, usable, type Caller, type Handler, type Service } from '../service.js';
import type { KeyRecord } from '../store.js';

interface SignRequest { rec: KeyRecord; alg: string; mechanism: SignMechanism; input: Buffer }

async function signRequest(req: Record<string, unknown>, c: Caller, svc: Service, op: 'Sign' | 'Verify'): Promise<SignRequest> {
  const rec = usable(await resolveKey(svc, c, str(req, 'KeyId')!));
  requireUsage(rec, 'SIGN_VERIFY', op);
  const message = blob(req, 'Message', 4096)!;
  const alg = str(req, 'SigningAlgorithm')!;
  if (!specOf(rec).signingAlgorithms?.includes(alg)) throw new KmsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${rec.KeySpec}.`);
  const type = str(req, 'MessageType', false) ?? 'RAW';
  if (type !== 'RAW' && type !== 'DIGEST') throw validation(`Value '${type}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST]`);
  const hash = algorithmHash(alg);
  const digest = type === 'DIGEST';
  if (digest && message.length !== HASH_BYTES[hash]) throw validation(`Digest is invalid length for algorithm ${alg}.`);
  if (alg.startsWith('ECDSA')) return { rec, alg, mechanism: digest ? 'ECDSA' : `ECDSA_${hash}`, input: message };
  if (alg.startsWith('RSASSA_PSS')) {
    return { rec, alg, mechanism: digest ? { name: 'RSA_PKCS_PSS', hash, mgf: hash, saltLength: HASH_BYTES[hash] } : { name: `${hash}_RSA_PKCS_PSS`, saltLength: HASH_BYTES[hash] }, input: message };
  }
  return digest ? { rec, alg, mechanism: 'RSA_PKCS', input: digestInfo(hash, message) } : { rec, alg, mechanism: `${hash}_RSA_PKCS`, input: message };
}

const Sign: Handler = async (req, c, svc) => {
  const s = await signRequest(req, c, svc, 'Sign');
  stopIfDryRun(req);
  const key = await svc.store.material(s.rec, 0, 'private-key');
  const raw = await key.sign(s.input, s.mechanism);
  const signature = s.alg.startsWith('ECDSA') ? Buffer.from(p1363ToDer(raw)) : raw;
  return { body: { KeyId: s.rec.Arn, Signature: signature.toString('base64'), SigningAlgorithm: s.alg }, keyArn: s.rec.Arn };
};

const Verify: Handler = async (req, c, svc) => {
  const s = await signRequest(req, c, svc, 'Verify');
  const signature = blob(req, 'Signature', 6144)!;
  const key = await svc.store.material(s.rec, 0, 'public-key');
  const sig = s.alg.startsWith('ECDSA') ? derToP1363(signature, curveByName(specOf(s.rec).curve!).size) : signature;
  if (sig === undefined || !(await key.verify(s.input, sig, s.mechanism))) throw new KmsError('KMSInvalidSignatureException');
  stopIfDryRun(req);
  return { body: { KeyId: s.rec.Arn, SignatureValid: true, SigningAlgorithm: s.alg }, keyArn: s.rec.Arn };
};

const GetPublicKey: Handler = async (req, c, svc) => {
  const rec = await resolveKey(svc, c, str(req, 'KeyId')!);
  if (rec.KeyState === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${rec.Arn} is pending deletion.`);
  const spec = specOf(rec);
  if (spec.kind !== 'rsa' && spec.kind !== 'ec') throw new KmsError('UnsupportedOperationException', `${rec.Arn} key usage is ${rec.KeyUsage}; GetPublicKey needs an asymmetric key.`);
  const pub = await svc.store.material(rec, 0, 'public-key');
  return {
    body: {
      KeyId: rec.Arn, PublicKey: (await pub.exportPublicKey('spki')).toString('base64'), KeySpec: rec.KeySpec, CustomerMasterKeySpec: rec.KeySpec, KeyUsage: rec.KeyUsage,
      ...(rec.KeyUsage === 'ENCRYPT_DECRYPT' ? { EncryptionAlgorithms: spec.encryptionAlgorithms } : { SigningAlgorithms: spec.signingAlgorithms }),
    },
    keyArn: rec.Arn,
  };
};

async function macRequest(req: Record<string, unknown>, c: Caller, svc: Service, op: string) {
  const rec = usable(await resolveKey(svc, c, str(req, 'KeyId')!));
  requireUsage(rec, 'GENERATE_VERIFY_MAC', op);
  const message = blob(req, 'Message', 4096)!;
  const alg = str(req, 'MacAlgorithm')!;
  if (!specOf(rec).macAlgorithms?.includes(alg)) throw new KmsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${rec.KeySpec}.`);
  const key = await svc.store.material(rec, 0, 'secret-key');
  return { rec, alg, message, key, mechanism: `${algorithmHash(alg)}_HMAC` as SignMechanism };
}

const GenerateMac: Handler = async (req, c, svc) => {
  const m = await macRequest(req, c, svc, 'GenerateMac');
  stopIfDryRun(req);
  const mac = await m.key.sign(m.message, m.mechanism);
  return { body: { Mac: mac.toString('base64'), MacAlgorithm: m.alg, KeyId: m.rec.Arn }, keyArn: m.rec.Arn };
};

const VerifyMac: Handler = async (req, c, svc) => {
  const m = await macRequest(req, c, svc, 'VerifyMac');
  const mac = blob(req, 'Mac', 64)!;
  if (!(await m.key.verify(m.message, mac, m.mechanism))) throw new KmsError('KMSInvalidMacException');
  stopIfDryRun(req);
  return { body: { KeyId: m.rec.Arn, MacValid: true, MacAlgorithm: m.alg }, keyArn: m.rec.Arn };
};

export const SIGNING_OPERATIONS: Record<string, Handler> = { Sign, Verify, GetPublicKey, GenerateMac, VerifyMac };
