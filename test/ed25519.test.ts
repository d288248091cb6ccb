// test/ed25519.test.ts
// Ed25519 signing and key generation run on libsodium when the build found it (issue: performance),
// verification on OpenSSL. Ed25519 is deterministic, so every signature must be byte for byte the
// one node:crypto (OpenSSL) makes with the same key, through each door: one-shot, synchronous and
// multi-part.

import * as crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

import { CKA, CKM, call, curveByName, native, privateKeyTemplate } from '../src/index.js';
import { openToken } from './helpers/hsm.js';
import { hasFile } from './helpers/programs.js';

const tk = await openToken('ed25519');
afterAll(() => tk.close());

const importKey = (key: crypto.KeyObject): Promise<number> =>
  call(native.createObject(tk.session, [...privateKeyTemplate(key), [CKA.SIGN, true]]));

// RFC 8032 §7.1, TEST 1-3: secret key (seed), public key, message, signature.
const RFC8032 = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '',
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72',
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82',
    '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'],
] as const;

const b64url = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');

describe('Ed25519', () => {
  it('the build says what signs: libsodium wherever libsodium-dev is installed', () => {
    expect(native.build.openssl).toMatch(/^OpenSSL 3\./);
    if (process.env.SEALHSM_SODIUM === '0') expect(native.build.ed25519).toBe('OpenSSL');
    else if (hasFile('/usr/include/sodium.h', 'libsodium-dev')) expect(native.build.ed25519).toMatch(/^libsodium \d/);
    else expect(native.build.ed25519).toBe('OpenSSL');
  });

  it('RFC 8032 test vectors 1-3', async () => {
    for (const [seed, pub, msg, sig] of RFC8032) {
      const key = crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(pub) }, format: 'jwk' });
      const h = await importKey(key);
      const m = Buffer.from(msg, 'hex');
      expect((await call(native.sign(tk.session, CKM.EDDSA, h, m))).toString('hex')).toBe(sig);
      expect(native.signSync(tk.session, CKM.EDDSA, h, m).toString('hex')).toBe(sig);
    }
  });

  it("the same bytes as node:crypto's, one-shot, synchronous and multi-part, from empty to 1 MiB", async () => {
    const lengths = [0, 1, 31, 32, 33, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 65_536, 1 << 20];
    for (let k = 0; k < 8; k++) {
      const { privateKey } = crypto.generateKeyPairSync('ed25519');
      const h = await importKey(privateKey);
      for (const n of lengths) {
        const m = crypto.randomBytes(n);
        const want = crypto.sign(null, m, privateKey).toString('hex');
        expect((await call(native.sign(tk.session, CKM.EDDSA, h, m))).toString('hex')).toBe(want);
        expect(native.signSync(tk.session, CKM.EDDSA, h, m).toString('hex')).toBe(want);
        await call(native.signInit(tk.session, CKM.EDDSA, h));
        for (let at = 0; at < n; at += 40_000) await call(native.signUpdate(tk.session, m.subarray(at, at + 40_000)));
        expect((await call(native.signFinal(tk.session))).toString('hex')).toBe(want);
      }
    }
  }, 60_000);

  it('generated keys: the public half is the one the private half signs for, by OpenSSL and node alike', async () => {
    const params = curveByName('ed25519').params;
    for (let i = 0; i < 50; i++) {
      const [pub, priv] = await call(native.generateKeyPair(tk.session, CKM.EC_EDWARDS_KEY_PAIR_GEN,
        [[CKA.EC_PARAMS, params], [CKA.VERIFY, true]], [[CKA.SIGN, true]]));
      const m = crypto.randomBytes(i * 7);
      const sig = await call(native.sign(tk.session, CKM.EDDSA, priv, m));
      // OpenSSL inside the token verifies, and so does node with the exported public key.
      expect(await call(native.verify(tk.session, CKM.EDDSA, pub, m, sig))).toBe(true);
      const [info] = await call(native.getAttributes(tk.session, pub, [CKA.PUBLIC_KEY_INFO]));
      const spki = crypto.createPublicKey({ key: info!.value!, format: 'der', type: 'spki' });
      expect(crypto.verify(null, m, spki, sig)).toBe(true);
      sig[5]! ^= 1;
      await expect(call(native.verify(tk.session, CKM.EDDSA, pub, m, sig))).rejects.toMatchObject({ code: 'CKR_SIGNATURE_INVALID' });
      await Promise.all([pub, priv].map((x) => call(native.destroyObject(tk.session, x))));
    }
  }, 60_000);
});
