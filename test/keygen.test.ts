// test/keygen.test.ts
// Key-pair generation reuses one OpenSSL context per curve and thread (issue: performance): every
// pair is still new, across the pool's threads, and each half matches the other.

import * as crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

import { CKA, CKM, call, curveByName, native } from '../src/index.js';
import { openToken } from './helpers/hsm.js';

const tk = await openToken('keygen');
afterAll(() => tk.close());

describe('generated pairs from reused contexts', () => {
  for (const [curve, mech, sign] of [
    ['secp256r1', CKM.EC_KEY_PAIR_GEN, CKM.ECDSA_SHA256],
    ['ed25519', CKM.EC_EDWARDS_KEY_PAIR_GEN, CKM.EDDSA],
  ] as const) {
    it(`${curve}: 600 concurrent pairs are all distinct, and each half matches its other half`, async () => {
      const params = curveByName(curve).params;
      const pairs = await Promise.all(Array.from({ length: 600 }, () =>
        call(native.generateKeyPair(tk.session, mech, [[CKA.EC_PARAMS, params], [CKA.VERIFY, true]], [[CKA.SIGN, true]]))));
      const points = await Promise.all(pairs.map(async ([pub]) => {
        const [a] = await call(native.getAttributes(tk.session, pub, [CKA.PUBLIC_KEY_INFO]));
        return a!.value!.toString('hex');
      }));
      expect(new Set(points).size).toBe(600);
      const msg = Buffer.from('pair check');
      for (const [i, [, priv]] of pairs.slice(0, 40).entries()) {
        const sig = await call(native.sign(tk.session, sign, priv, msg));
        const spki = crypto.createPublicKey({ key: Buffer.from(points[i]!, 'hex'), format: 'der', type: 'spki' });
        const ok = curve === 'ed25519' ? crypto.verify(null, msg, spki, sig) : crypto.verify('sha256', msg, { key: spki, dsaEncoding: 'ieee-p1363' }, sig);
        expect(ok).toBe(true);
      }
      await Promise.all(pairs.flat().map((h) => call(native.destroyObject(tk.session, h))));
    }, 60_000);
  }
});
