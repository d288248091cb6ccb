// src/bench/backends/pkcs11.ts
//
// Any PKCS#11 library through pkcs11js: sealhsm's own module ('module', on a memory slot it
// configures), SoftHSMv2, or AWS's CloudHSM library ('pkcs11:<path>' with the workload's PIN). Each
// worker has its own session; the *Init calls are synchronous in pkcs11js, the operations run on its
// thread pool. Where a library lacks a hash-and-sign mechanism (SoftHSMv2 has no CKM_ECDSA_SHA256),
// the data is hashed with node:crypto and the raw mechanism signs the digest; the report notes it.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type * as P11 from 'pkcs11js';

import { pkcs11Config, pkcs11ModulePath, pkcs11Provisioning } from '../../pkcs11/module.js';
import { NotApplicable, type AlgorithmSpec, type Backend, type OperationName, type Prepared } from '../operations.js';

type Lib = typeof P11;
const CURVE_OIDS = { secp256r1: '06082a8648ce3d030107', secp384r1: '06052b81040022' } as const;
const ED25519_OID = '06032b6570';

async function loadPkcs11js(): Promise<Lib> {
  try {
    const m = (await import('pkcs11js')) as unknown as { default?: Lib } & Lib;
    return m.default ?? m;
  } catch {
    throw new Error("the PKCS#11 backends need the pkcs11js package (npm install pkcs11js); it is an optional dependency of sealhsm");
  }
}

/** Our module on a memory slot with one user, configured through a private configuration file. */
export function moduleSetup(): { library: string; pin: string; conf: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sealhsm-bench-'));
  const users = join(dir, 'users');
  writeFileSync(users, pkcs11Provisioning([{ name: 'so', password: 'bench-so-password', role: 'admin' }, { name: 'user', password: 'bench-user-password' }]));
  const conf = join(dir, 'sealhsm-pkcs11.conf');
  writeFileSync(conf, pkcs11Config([{ dir: 'memory', profile: 'pkcs11', label: 'bench', usersFile: users }]));
  return { library: pkcs11ModulePath(), pin: 'bench-user-password', conf };
}

export async function pkcs11Backend(name: string, library: string, pin: string | undefined, slotChoice: string | undefined): Promise<Backend> {
  const p = await loadPkcs11js();
  const lib = new p.PKCS11();
  lib.load(library);
  lib.C_Initialize({ flags: p.CKF_OS_LOCKING_OK });
  const slots = lib.C_GetSlotList(true);
  const slot = slotChoice?.startsWith('id=')
    ? slots.find((s) => s.readUInt32LE(0) === Number(slotChoice.slice(3)))
    : slots[Number(slotChoice ?? 0)];
  if (slot === undefined) throw new Error(`${name}: no slot ${slotChoice ?? 0} with a token`);
  const mechanisms = new Set(lib.C_GetMechanismList(slot));
  const sessions: Buffer[] = [];
  const notes = new Set<string>();
  const open = (n: number): void => {
    while (sessions.length < n) sessions.push(lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION | p.CKF_RW_SESSION));
  };
  open(1);
  if (pin !== undefined) {
    try {
      lib.C_Login(sessions[0]!, p.CKU_USER, pin);
    } catch (e) {
      if (!String((e as Error).message).startsWith('CKR_USER_ALREADY_LOGGED_IN')) throw e;
    }
  }
  const s0 = (): Buffer => sessions[0]!;
  const made: Buffer[] = []; // keys a generate phase made, destroyed after it (afterPhase)
  const keep = async (p: Promise<Buffer | P11.KeyPair>): Promise<void> => {
    const k = await p;
    if (Buffer.isBuffer(k)) made.push(k);
    else made.push(k.publicKey, k.privateKey);
  };
  const has = (m: number): boolean => mechanisms.has(m);
  const common = [{ type: p.CKA_TOKEN, value: false }];

  const pair = (spec: AlgorithmSpec): P11.KeyPair => {
    const k = spec.key;
    const priv = [...common, { type: p.CKA_SIGN, value: true }, { type: p.CKA_DECRYPT, value: k.type === 'rsa' }, { type: p.CKA_DERIVE, value: k.type === 'ec' }, { type: p.CKA_PRIVATE, value: true }, { type: p.CKA_SENSITIVE, value: true }];
    const pub = [...common, { type: p.CKA_VERIFY, value: true }, ...(k.type === 'rsa' ? [{ type: p.CKA_ENCRYPT, value: true }] : [])];
    if (k.type === 'ec') return lib.C_GenerateKeyPair(s0(), { mechanism: p.CKM_EC_KEY_PAIR_GEN }, [...pub, { type: p.CKA_EC_PARAMS, value: Buffer.from(CURVE_OIDS[k.curve], 'hex') }], priv);
    if (k.type === 'rsa') return lib.C_GenerateKeyPair(s0(), { mechanism: p.CKM_RSA_PKCS_KEY_PAIR_GEN }, [...pub, { type: p.CKA_MODULUS_BITS, value: k.bits }, { type: p.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }], priv);
    if (k.type === 'ed25519') {
      if (!has(0x1055)) throw new NotApplicable(`${name} has no Ed25519 (CKM_EC_EDWARDS_KEY_PAIR_GEN)`);
      return lib.C_GenerateKeyPair(s0(), { mechanism: 0x1055 }, [...pub, { type: p.CKA_EC_PARAMS, value: Buffer.from(ED25519_OID, 'hex') }], priv);
    }
    throw new NotApplicable(`no key pair for ${k.type}`);
  };
  const aes = (bits: number, extra: P11.Template = []): Buffer => lib.C_GenerateKey(s0(), { mechanism: p.CKM_AES_KEY_GEN },
    [...common, { type: p.CKA_VALUE_LEN, value: bits / 8 }, { type: p.CKA_ENCRYPT, value: true }, { type: p.CKA_DECRYPT, value: true }, ...extra]);
  const hashName = (spec: AlgorithmSpec) => spec.hash!.toLowerCase().replace('sha', 'sha');

  /** The sign/verify mechanism, or the raw one with software hashing where the library lacks it. */
  const signMechanism = (spec: AlgorithmSpec): { mech: P11.Mechanism; prehash: boolean } => {
    const k = spec.key;
    if (k.type === 'ed25519') return { mech: { mechanism: 0x1057 }, prehash: false };
    const hashed = { SHA256: [p.CKM_ECDSA_SHA256, p.CKM_SHA256_RSA_PKCS, p.CKM_SHA256_RSA_PKCS_PSS, p.CKM_SHA256], SHA384: [p.CKM_ECDSA_SHA384, p.CKM_SHA384_RSA_PKCS, p.CKM_SHA384_RSA_PKCS_PSS, p.CKM_SHA384], SHA512: [p.CKM_ECDSA_SHA512, p.CKM_SHA512_RSA_PKCS, p.CKM_SHA512_RSA_PKCS_PSS, p.CKM_SHA512] }[spec.hash as 'SHA256'];
    const pssParams: P11.RsaPSS = { type: p.CK_PARAMS_RSA_PSS, hashAlg: hashed[3]!, mgf: { SHA256: p.CKG_MGF1_SHA256, SHA384: p.CKG_MGF1_SHA384, SHA512: p.CKG_MGF1_SHA512 }[spec.hash as 'SHA256'], saltLen: 32 };
    if (k.type === 'ec') {
      if (has(hashed[0]!)) return { mech: { mechanism: hashed[0]! }, prehash: false };
      notes.add(`${name}: ECDSA over a digest made with node:crypto (no CKM_ECDSA_${spec.hash!})`);
      return { mech: { mechanism: p.CKM_ECDSA }, prehash: true };
    }
    if (spec.scheme === 'pss') return { mech: { mechanism: hashed[2]!, parameter: pssParams }, prehash: false };
    return { mech: { mechanism: hashed[1]! }, prehash: false };
  };

  return {
    name,
    get notes(): string[] {
      return [...notes];
    },
    async setConcurrency(n: number) {
      open(n);
    },
    async afterPhase() {
      for (const h of made.splice(0)) lib.C_DestroyObject(s0(), h);
    },
    async prepare(op: OperationName, algorithm: string, spec: AlgorithmSpec, size: number): Promise<Prepared> {
      try {
        return prepareOne(op, spec, size);
      } catch (e) {
        // A library that refuses a mechanism or its parameters while keys and inputs are made (SoftHSMv2
        // takes RSA-OAEP with SHA-1 only) does not offer this operation: reported, not run.
        const code = pkcs11Code(e);
        if (code === undefined) throw e;
        throw new NotApplicable(`${name} refuses ${op}:${algorithm} (${code})`);
      }
    },
    async close() {
      closeAll();
    },
  } as Backend & { readonly notes: string[] };

  function prepareOne(op: OperationName, spec: AlgorithmSpec, size: number): Prepared {
    const data = randomBytes(size);
    const session = (w: number): Buffer => sessions[w % sessions.length]!;
    switch (op) {
      case 'sign':
      case 'verify': {
        const keys = pair(spec);
        const { mech, prehash } = signMechanism(spec);
        const input = (): Buffer => (prehash ? createHash(hashName(spec)).update(data).digest() : data);
        if (op === 'sign') {
          return (w) => {
            lib.C_SignInit(session(w), mech, keys.privateKey);
            return lib.C_SignAsync(session(w), input(), Buffer.alloc(1024));
          };
        }
        lib.C_SignInit(s0(), mech, keys.privateKey);
        const sig = Buffer.from(lib.C_Sign(s0(), input(), Buffer.alloc(1024)));
        return (w) => {
          lib.C_VerifyInit(session(w), mech, keys.publicKey);
          return lib.C_VerifyAsync(session(w), input(), sig);
        };
      }
      case 'encrypt':
      case 'decrypt': {
        let enc: Buffer;
        let dec: Buffer;
        let mech: P11.Mechanism;
        if (spec.scheme === 'oaep') {
          const keys = pair(spec);
          [enc, dec] = [keys.publicKey, keys.privateKey];
          mech = { mechanism: p.CKM_RSA_PKCS_OAEP, parameter: { type: p.CK_PARAMS_RSA_OAEP, hashAlg: p.CKM_SHA256, mgf: p.CKG_MGF1_SHA256, source: 1 } as P11.RsaOAEP };
        } else {
          enc = dec = aes(256);
          const iv = randomBytes(spec.scheme === 'gcm' ? 12 : 16);
          mech = spec.scheme === 'gcm'
            ? { mechanism: p.CKM_AES_GCM, parameter: { type: p.CK_PARAMS_AES_GCM, iv, ivBits: 96, tagBits: 128 } as P11.AesGCM }
            : { mechanism: p.CKM_AES_CBC_PAD, parameter: iv };
        }
        const out = () => Buffer.alloc(size + 512);
        if (op === 'encrypt') {
          return (w) => {
            lib.C_EncryptInit(session(w), mech, enc);
            return lib.C_EncryptAsync(session(w), data, out());
          };
        }
        lib.C_EncryptInit(s0(), mech, enc);
        const ct = Buffer.from(lib.C_Encrypt(s0(), data, out()));
        return (w) => {
          lib.C_DecryptInit(session(w), mech, dec);
          return lib.C_DecryptAsync(session(w), ct, out());
        };
      }
      case 'hmac': {
        const key = lib.C_GenerateKey(s0(), { mechanism: p.CKM_GENERIC_SECRET_KEY_GEN }, [...common, { type: p.CKA_VALUE_LEN, value: 32 }, { type: p.CKA_SIGN, value: true }]);
        return (w) => {
          lib.C_SignInit(session(w), { mechanism: p.CKM_SHA256_HMAC }, key);
          return lib.C_SignAsync(session(w), data, Buffer.alloc(64));
        };
      }
      case 'digest': {
        const mech = { mechanism: spec.hash === 'SHA512' ? p.CKM_SHA512 : p.CKM_SHA256 };
        return (w) => {
          lib.C_DigestInit(session(w), mech);
          return lib.C_DigestAsync(session(w), data, Buffer.alloc(64));
        };
      }
      case 'wrap': {
        const kek = aes(256, [{ type: p.CKA_WRAP, value: true }]);
        const payload = aes(256, [{ type: p.CKA_EXTRACTABLE, value: true }]);
        return (w) => lib.C_WrapKeyAsync(session(w), { mechanism: p.CKM_AES_KEY_WRAP }, kek, payload, Buffer.alloc(64));
      }
      case 'generate': {
        const k = spec.key;
        if (k.type === 'aes') return (w) => keep(lib.C_GenerateKeyAsync(session(w), { mechanism: p.CKM_AES_KEY_GEN }, [...common, { type: p.CKA_VALUE_LEN, value: k.bits / 8 }]));
        if (k.type === 'generic-secret') return (w) => keep(lib.C_GenerateKeyAsync(session(w), { mechanism: p.CKM_GENERIC_SECRET_KEY_GEN }, [...common, { type: p.CKA_VALUE_LEN, value: k.bytes }]));
        if (k.type === 'ec') {
          const params = Buffer.from(CURVE_OIDS[k.curve], 'hex');
          return (w) => keep(lib.C_GenerateKeyPairAsync(session(w), { mechanism: p.CKM_EC_KEY_PAIR_GEN }, [...common, { type: p.CKA_EC_PARAMS, value: params }], [...common, { type: p.CKA_SIGN, value: true }]));
        }
        if (k.type === 'rsa') {
          return (w) => keep(lib.C_GenerateKeyPairAsync(session(w), { mechanism: p.CKM_RSA_PKCS_KEY_PAIR_GEN },
            [...common, { type: p.CKA_MODULUS_BITS, value: k.bits }, { type: p.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }], [...common, { type: p.CKA_SIGN, value: true }]));
        }
        if (!has(0x1055)) throw new NotApplicable(`${name} has no Ed25519`);
        return (w) => keep(lib.C_GenerateKeyPairAsync(session(w), { mechanism: 0x1055 }, [...common, { type: p.CKA_EC_PARAMS, value: Buffer.from(ED25519_OID, 'hex') }], [...common, { type: p.CKA_SIGN, value: true }]));
      }
      case 'derive': {
        if (spec.key.type === 'generic-secret') throw new NotApplicable('pkcs11js has no CK_HKDF_PARAMS to pass');
        const mine = pair({ ...spec, operations: ['derive'] });
        const theirs = pair({ ...spec, operations: ['derive'] });
        const [attr] = lib.C_GetAttributeValue(s0(), theirs.publicKey, [{ type: p.CKA_EC_POINT }]);
        const der = attr!.value as Buffer;
        const point = der.subarray(der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2);
        const tmpl = [...common, { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY }, { type: p.CKA_KEY_TYPE, value: p.CKK_GENERIC_SECRET }, { type: p.CKA_VALUE_LEN, value: 32 }];
        return async (w) => {
          const k = await lib.C_DeriveKeyAsync(session(w), { mechanism: p.CKM_ECDH1_DERIVE, parameter: { type: p.CK_PARAMS_EC_DH, kdf: 1, publicData: point } as P11.ECDH1 }, mine.privateKey, tmpl);
          lib.C_DestroyObject(session(w), k);
        };
      }
      case 'find': {
        for (let i = 0; i < 100; i++) aes(128, [{ type: p.CKA_LABEL, value: `bench-find-${i}` }]);
        let i = 0;
        return async (w) => {
          lib.C_FindObjectsInit(session(w), [{ type: p.CKA_LABEL, value: `bench-find-${i++ % 100}` }]);
          const found = lib.C_FindObjects(session(w), 10);
          lib.C_FindObjectsFinal(session(w));
          return found;
        };
      }
    }
  }

  function closeAll(): void {
    for (const s of sessions.splice(0)) {
      try {
        lib.C_CloseSession(s);
      } catch {
        // already closed with the library
      }
    }
    lib.C_Finalize();
  }
}

/** The CKR name of a pkcs11js error ("CKR_PIN_INCORRECT:160"). */
export function pkcs11Code(e: unknown): string | undefined {
  const m = /^(CKR_[A-Z0-9_]+)/.exec(String((e as Error)?.message ?? ''));
  return m?.[1];
}
