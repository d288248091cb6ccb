// src/bench/backends/client.ts
//
// sealhsm's own client (SealHsm, KeyHandle) on an in-memory token of the workload's profile: what a
// service embedding sealhsm runs.

import { randomBytes } from 'node:crypto';

import { SealHsm, type ProfileName } from '../../client/hsm.js';
import type { KeyHandle } from '../../client/key_handle.js';
import type { KeyPair } from '../../client/keys.js';
import type { EncryptMechanism, SignMechanism } from '../../client/mechanisms.js';
import { NotApplicable, type AlgorithmSpec, type Backend, type OperationName, type Prepared } from '../operations.js';

function signMechanism(spec: AlgorithmSpec): SignMechanism {
  const k = spec.key;
  if (k.type === 'ed25519') return 'EDDSA';
  if (k.type === 'ec') return `ECDSA_${spec.hash!}`;
  if (spec.scheme === 'pss') return { name: `${spec.hash!}_RSA_PKCS_PSS`, saltLength: 32 };
  return `${spec.hash!}_RSA_PKCS`;
}

export async function clientBackend(profile: string): Promise<Backend> {
  let hsm: SealHsm | undefined;
  const open = async (sessions: number): Promise<SealHsm> => {
    hsm?.close();
    const h = SealHsm.memory({ profile: profile as ProfileName, sessions, label: 'bench' });
    const [admin, user] = profile === 'pkcs11' ? ['so', 'user'] : ['admin', 'bench'];
    await h.activate('bench-admin-password');
    await h.login(admin, 'bench-admin-password');
    await h.users.create(user, 'bench-user-password');
    h.logout();
    await h.login(user, 'bench-user-password');
    hsm = h;
    return h;
  };
  const pairFor = (h: SealHsm, spec: AlgorithmSpec, usage: Record<string, boolean>): Promise<KeyPair> => {
    const k = spec.key;
    if (k.type === 'ec') return h.keys.generateEc({ curve: k.curve, ...usage });
    if (k.type === 'ed25519') return h.keys.generateEd25519(usage);
    if (k.type === 'rsa') return h.keys.generateRsa({ modulusBits: k.bits, ...usage });
    throw new NotApplicable(`no key pair for ${k.type}`);
  };
  let made: KeyHandle[] = [];
  return {
    name: 'client',
    async setConcurrency(n: number) {
      await open(Math.max(4, n));
    },
    async afterPhase() {
      const gone = made;
      made = [];
      for (let i = 0; i < gone.length; i += 256) await Promise.all(gone.slice(i, i + 256).map((k) => k.delete()));
    },
    async prepare(op: OperationName, _algorithm: string, spec: AlgorithmSpec, size: number): Promise<Prepared> {
      const h = hsm ?? (await open(4));
      const data = randomBytes(size);
      switch (op) {
        case 'sign':
        case 'verify': {
          const { privateKey, publicKey } = await pairFor(h, spec, { sign: true, verify: true });
          const m = signMechanism(spec);
          if (op === 'sign') return () => privateKey.sign(data, m);
          const sig = await privateKey.sign(data, m);
          return () => publicKey.verify(data, sig, m);
        }
        case 'encrypt':
        case 'decrypt': {
          let enc: KeyHandle;
          let dec: KeyHandle;
          let m: EncryptMechanism;
          if (spec.scheme === 'oaep') {
            const p = await pairFor(h, spec, { encrypt: true, decrypt: true });
            [enc, dec, m] = [p.publicKey, p.privateKey, { name: 'RSA_PKCS_OAEP', hash: 'SHA256' }];
          } else {
            const k = await h.keys.generateAes({ bits: 256, encrypt: true, decrypt: true });
            const iv = randomBytes(spec.scheme === 'gcm' ? 12 : 16);
            [enc, dec, m] = [k, k, spec.scheme === 'gcm' ? { name: 'AES_GCM', iv } : { name: 'AES_CBC_PAD', iv }];
          }
          if (op === 'encrypt') return () => enc.encrypt(data, m);
          const out = await enc.encrypt(data, m);
          const ct = 'ciphertext' in out ? out.ciphertext : out;
          const dm = typeof m === 'object' && m.name === 'AES_GCM' && 'iv' in out ? { ...m, iv: out.iv } : m;
          return () => dec.decrypt(ct, dm);
        }
        case 'hmac': {
          const k = await h.keys.generateGenericSecret({ length: 32, sign: true });
          return () => k.sign(data, 'SHA256_HMAC');
        }
        case 'digest':
          return () => h.digest(data, spec.hash!);
        case 'wrap': {
          const kek = await h.keys.generateAes({ bits: 256, wrap: true, unwrap: true });
          const payload = await h.keys.generateAes({ bits: 256, extractable: true });
          const m = h.mechanisms().includes('CKM_AES_KEY_WRAP') ? 'AES_KEY_WRAP' : 'CLOUDHSM_AES_KEY_WRAP_NO_PAD';
          return () => kek.wrap(payload, m);
        }
        case 'generate': {
          const k = spec.key;
          // Session keys, destroyed after each phase (afterPhase).
          if (k.type === 'aes') return async () => made.push(await h.keys.generateAes({ bits: k.bits }));
          if (k.type === 'generic-secret') return async () => made.push(await h.keys.generateGenericSecret({ length: k.bytes }));
          return async () => {
            const pair = await pairFor(h, spec, {});
            made.push(pair.publicKey, pair.privateKey);
          };
        }
        case 'derive': {
          if (spec.key.type === 'generic-secret') {
            if (!h.mechanisms().includes('CKM_HKDF_DERIVE')) throw new NotApplicable(`the ${profile} profile has no HKDF`);
            const ikm = await h.keys.importSecret(randomBytes(32), { type: 'generic-secret', derive: true });
            const salt = randomBytes(16);
            return async () => (await ikm.deriveHkdf({ type: 'generic-secret', length: 32, salt, info: Buffer.from('bench') })).delete();
          }
          const mine = await h.keys.generateEc({ curve: 'secp256r1', derive: true });
          const theirs = await h.keys.generateEc({ curve: 'secp256r1' });
          const point = await theirs.publicKey.exportPublicKey('raw');
          return async () => (await mine.privateKey.deriveEcdh(point, { type: 'generic-secret', length: 32 })).delete();
        }
        case 'find': {
          for (let i = 0; i < 100; i++) await h.keys.generateAes({ bits: 128, label: `bench-find-${i}` });
          let i = 0;
          return () => h.keys.find({ label: `bench-find-${i++ % 100}` });
        }
      }
    },
    async close() {
      hsm?.close();
      hsm = undefined;
    },
  };
}
