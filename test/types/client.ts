// test/types/client.ts — type-level tests, checked by `npm run typecheck` (tsc), never executed.
// Each @ts-expect-error line must fail to compile; if it compiles, the type check fails.

import { SealHsm, type GcmResult, type KeyHandle } from '../../src/index.js';

declare const hsm: SealHsm;
declare const key: KeyHandle;
declare const data: Uint8Array;

export async function typeChecks(): Promise<void> {
  const gcm: GcmResult = await key.encrypt(data);
  const gcm2: GcmResult = await key.encrypt(data, { name: 'AES_GCM', aad: data });
  const cbc: Buffer = await key.encrypt(data, { name: 'AES_CBC_PAD', iv: data });
  const either: Buffer | GcmResult = await key.encrypt(data, Math.random() > 0.5 ? 'AES_ECB' : { name: 'AES_GCM' });
  const ok: boolean = await key.verify(data, data, 'ECDSA_SHA256');
  const pem: string = await key.exportPublicKey('pem');
  const spki: Buffer = await key.exportPublicKey();
  void [gcm, gcm2, cbc, either, ok, pem, spki];

  // @ts-expect-error: a GCM result is not a Buffer
  const wrong: Buffer = await key.encrypt(data);
  // @ts-expect-error: unknown mechanism name
  await key.sign(data, 'ECDSA_SHA3');
  // @ts-expect-error: PSS options need a PSS mechanism name
  await key.sign(data, { name: 'SHA256_HMAC', saltLength: 32 });
  // @ts-expect-error: Ed25519 is not an EC curve for generateEc
  await hsm.keys.generateEc({ curve: 'ed25519' });
  // @ts-expect-error: AES keys are 128, 192 or 256 bits
  await hsm.keys.generateAes({ bits: 512 });
  // @ts-expect-error: roles are 'admin' or 'crypto-user'
  await hsm.users.create('x', 'password', 'root');
  // @ts-expect-error: profiles are a closed list
  SealHsm.memory({ profile: 'softhsm' });
  void wrong;
}
