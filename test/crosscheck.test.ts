// test/crosscheck.test.ts
// Differential checks against node:crypto: signatures made in the token verify there and the
// reverse; ciphertext made outside with an exported public key decrypts inside; ECDH agrees;
// exported public keys (SPKI/PEM/JWK/EC point) are the same key node:crypto sees.

import * as crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

import {
  CKA, CKG, CKK, CKM, CKO, call, curveByName, derToP1363, ecPointFromAttribute, native, p1363ToDer,
  privateKeyTemplate, publicKeyTemplate, spkiToJwk, spkiToPem,
} from '../src/index.js';
import { OPEN_SECRET, importKey, openToken, readValue, verifies } from './helpers/hsm.js';

const tk = await openToken('crosscheck');
afterAll(() => tk.close());
const msg = Buffer.from('sealhsm cross-check message');

async function attr(h: number, type: number): Promise<Buffer> {
  const [a] = await call(native.getAttributes(tk.session, h, [type]));
  if (a?.value == null) throw new Error(`attribute 0x${type.toString(16)} not readable`);
  return a.value;
}

async function ecPair(curve: string) {
  const [pub, priv] = await call(native.generateKeyPair(tk.session, { type: CKM.EC_KEY_PAIR_GEN },
    [[CKA.EC_PARAMS, curveByName(curve).params], [CKA.VERIFY, true]], [[CKA.SIGN, true], [CKA.DERIVE, true]]));
  return { pub, priv, spki: await attr(pub, CKA.PUBLIC_KEY_INFO) };
}

async function rsaPair(bits = 2048) {
  const [pub, priv] = await call(native.generateKeyPair(tk.session, { type: CKM.RSA_PKCS_KEY_PAIR_GEN },
    [[CKA.MODULUS_BITS, bits], [CKA.VERIFY, true], [CKA.ENCRYPT, true]], [[CKA.SIGN, true], [CKA.DECRYPT, true]]));
  return { pub, priv, spki: await attr(pub, CKA.PUBLIC_KEY_INFO) };
}

const nodeKey = (spki: Buffer) => crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });

describe('ECDSA against node:crypto', () => {
  for (const [curve, hash, mech] of [
    ['secp256r1', 'sha256', CKM.ECDSA_SHA256], ['secp384r1', 'sha384', CKM.ECDSA_SHA384],
    ['secp521r1', 'sha512', CKM.ECDSA_SHA512], ['secp256k1', 'sha256', CKM.ECDSA_SHA256], ['secp224r1', 'sha224', CKM.ECDSA_SHA224],
  ] as const) {
    it(`${curve}: token signs, node verifies; node signs, token verifies`, async () => {
      const k = await ecPair(curve);
      const sig = await call(native.sign(tk.session, { type: mech }, k.priv, msg));
      expect(sig.length).toBe(2 * curveByName(curve).size);
      expect(crypto.verify(hash, msg, { key: nodeKey(k.spki), dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);

      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: curve === 'secp256r1' ? 'prime256v1' : curve });
      const theirs = await importKey(tk, publicKeyTemplate(privateKey), [[CKA.VERIFY, true]]);
      const der = crypto.sign(hash, msg, privateKey);
      const raw = derToP1363(der, curveByName(curve).size);
      expect(raw).toBeDefined();
      expect(await verifies(tk, { type: mech }, theirs, msg, raw!)).toBe(true);
      expect(Buffer.from(p1363ToDer(raw!)).equals(der)).toBe(true);
      expect(await verifies(tk, { type: mech }, theirs, Buffer.from('other'), raw!)).toBe(false);
    });
  }

  it('CKM_ECDSA signs a caller-computed hash', async () => {
    const k = await ecPair('secp256r1');
    const digest = crypto.createHash('sha256').update(msg).digest();
    const sig = await call(native.sign(tk.session, { type: CKM.ECDSA }, k.priv, digest));
    expect(crypto.verify('sha256', msg, { key: nodeKey(k.spki), dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
  });

  it('exports the EC public key as SPKI, PEM, JWK and raw point, all the same key', async () => {
    const k = await ecPair('secp256r1');
    const point = ecPointFromAttribute(await attr(k.pub, CKA.EC_POINT));
    const jwk = spkiToJwk(k.spki);
    expect(point.length).toBe(65);
    expect(Buffer.from(point.subarray(1, 33)).toString('base64url')).toBe(jwk.x);
    expect(spkiToPem(k.spki)).toBe(nodeKey(k.spki).export({ type: 'spki', format: 'pem' }));
    expect(Buffer.from(await attr(k.priv, CKA.PUBLIC_KEY_INFO)).equals(k.spki)).toBe(true);
  });
});

describe('Ed25519 against node:crypto', () => {
  it('token signs, node verifies; node signs, token verifies', async () => {
    const [pub, priv] = await call(native.generateKeyPair(tk.session, { type: CKM.EC_EDWARDS_KEY_PAIR_GEN },
      [[CKA.EC_PARAMS, curveByName('ed25519').params]], []));
    const sig = await call(native.sign(tk.session, { type: CKM.EDDSA }, priv, msg));
    expect(crypto.verify(null, msg, nodeKey(await attr(pub, CKA.PUBLIC_KEY_INFO)), sig)).toBe(true);
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const theirs = await importKey(tk, publicKeyTemplate(privateKey));
    expect(await verifies(tk, { type: CKM.EDDSA }, theirs, msg, crypto.sign(null, msg, privateKey))).toBe(true);
    // imported private key signs identically (Ed25519 is deterministic)
    const mine = await importKey(tk, privateKeyTemplate(privateKey));
    expect((await call(native.sign(tk.session, { type: CKM.EDDSA }, mine, msg))).equals(crypto.sign(null, msg, privateKey))).toBe(true);
  });
});

describe('RSA against node:crypto', () => {
  it('PKCS#1 v1.5 and PSS signatures verify both ways', async () => {
    const k = await rsaPair();
    const key = nodeKey(k.spki);
    const p1 = await call(native.sign(tk.session, { type: CKM.SHA256_RSA_PKCS }, k.priv, msg));
    expect(crypto.verify('sha256', msg, key, p1)).toBe(true);
    const pss = { type: CKM.SHA256_RSA_PKCS_PSS, hashAlg: CKM.SHA256, mgf: CKG.MGF1_SHA256, saltLength: 32 };
    const ps = await call(native.sign(tk.session, pss, k.priv, msg));
    expect(crypto.verify('sha256', msg, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, ps)).toBe(true);

    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const theirs = await importKey(tk, publicKeyTemplate(privateKey), [[CKA.VERIFY, true]]);
    expect(await verifies(tk, { type: CKM.SHA256_RSA_PKCS }, theirs, msg, crypto.sign('sha256', msg, privateKey))).toBe(true);
    const theirPss = crypto.sign('sha256', msg, { key: privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    expect(await verifies(tk, pss, theirs, msg, theirPss)).toBe(true);
  });

  it('OAEP ciphertext made with the exported public key decrypts in the token', async () => {
    const k = await rsaPair();
    for (const [hash, ckm, mgf] of [['sha1', CKM.SHA_1, CKG.MGF1_SHA1], ['sha256', CKM.SHA256, CKG.MGF1_SHA256], ['sha512', CKM.SHA512, CKG.MGF1_SHA512]] as const) {
      const ct = crypto.publicEncrypt({ key: nodeKey(k.spki), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash, oaepLabel: Buffer.from('L') }, msg);
      const pt = await call(native.decrypt(tk.session, { type: CKM.RSA_PKCS_OAEP, hashAlg: ckm, mgf, label: Buffer.from('L') }, k.priv, ct));
      expect(pt.equals(msg)).toBe(true);
    }
    const ours = await call(native.encrypt(tk.session, { type: CKM.RSA_PKCS_OAEP, hashAlg: CKM.SHA256, mgf: CKG.MGF1_SHA256 }, k.pub, msg));
    expect(ours.length).toBe(256);
  });

  it('CKM_RSA_X_509 is raw RSA and matches node:crypto with no padding', async () => {
    const k = await rsaPair();
    const block = Buffer.alloc(256, 0);
    block.write('raw', 200);
    const ct = crypto.publicEncrypt({ key: nodeKey(k.spki), padding: crypto.constants.RSA_NO_PADDING }, block);
    expect((await call(native.decrypt(tk.session, { type: CKM.RSA_X_509 }, k.priv, ct))).equals(block)).toBe(true);
  });

  it('imports PKCS#8 and JWK private keys that sign like the originals', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const fromDer = await importKey(tk, privateKeyTemplate({ format: 'der', type: 'pkcs8', data: privateKey.export({ format: 'der', type: 'pkcs8' }) }));
    const fromJwk = await importKey(tk, privateKeyTemplate({ format: 'jwk', jwk: privateKey.export({ format: 'jwk' }) }));
    for (const h of [fromDer, fromJwk]) {
      const sig = await call(native.sign(tk.session, { type: CKM.SHA384_RSA_PKCS }, h, msg));
      expect(sig.equals(crypto.sign('sha384', msg, privateKey))).toBe(true); // PKCS#1 v1.5 is deterministic
      expect(crypto.verify('sha384', msg, publicKey, sig)).toBe(true);
    }
  });
});

describe('ECDH against node:crypto', () => {
  for (const curve of ['secp256r1', 'secp384r1', 'secp521r1'] as const) {
    it(`${curve}: the derived secret equals node's, raw and through X9.63`, async () => {
      const k = await ecPair(curve);
      const ecdh = crypto.createECDH(curve === 'secp256r1' ? 'prime256v1' : curve);
      ecdh.generateKeys();
      const ourPoint = ecPointFromAttribute(await attr(k.pub, CKA.EC_POINT));
      const expected = ecdh.computeSecret(ourPoint);
      const tmpl = [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.GENERIC_SECRET], ...OPEN_SECRET] as const;
      const z = await call(native.deriveKey(tk.session, { type: CKM.ECDH1_DERIVE, kdf: 1, publicData: ecdh.getPublicKey() }, k.priv, tmpl));
      expect((await readValue(tk, z)).equals(expected)).toBe(true);
      // compressed peer point and DER-wrapped point give the same secret
      const compressed = ecdh.getPublicKey(undefined, 'compressed');
      const z2 = await call(native.deriveKey(tk.session, { type: CKM.ECDH1_DERIVE, kdf: 1, publicData: compressed }, k.priv, tmpl));
      expect((await readValue(tk, z2)).equals(expected)).toBe(true);
      // ANSI X9.63 KDF with SHA-256: H(Z || 00000001 || info) for 32 bytes
      const info = Buffer.from('shared info');
      const kdf = crypto.createHash('sha256').update(Buffer.concat([expected, Buffer.from([0, 0, 0, 1]), info])).digest();
      const z3 = await call(native.deriveKey(tk.session, { type: CKM.ECDH1_DERIVE, kdf: 6, sharedData: info, publicData: ecdh.getPublicKey() }, k.priv,
        [...tmpl, [CKA.VALUE_LEN, 32]]));
      expect((await readValue(tk, z3)).equals(kdf)).toBe(true);
    });
  }
});

describe('symmetric against node:crypto', () => {
  const key = crypto.randomBytes(32);
  const open = [[CKA.ENCRYPT, true], [CKA.DECRYPT, true], [CKA.SIGN, true], [CKA.VERIFY, true]] as const;

  it('AES-256 ECB, CBC, CBC_PAD, CTR and GCM match node:crypto, one-shot and multi-part', async () => {
    const h = await importKey(tk, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, key]], open);
    const iv = crypto.randomBytes(16);
    const data = crypto.randomBytes(64);
    const cases = [
      [{ type: CKM.AES_ECB }, crypto.createCipheriv('aes-256-ecb', key, null).setAutoPadding(false)],
      [{ type: CKM.AES_CBC, iv }, crypto.createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false)],
      [{ type: CKM.AES_CBC_PAD, iv }, crypto.createCipheriv('aes-256-cbc', key, iv)],
      [{ type: CKM.AES_CTR, iv, counterBits: 128 }, crypto.createCipheriv('aes-256-ctr', key, iv)],
    ] as const;
    for (const [mech, c] of cases) {
      const expected = Buffer.concat([c.update(data), c.final()]);
      expect((await call(native.encrypt(tk.session, mech, h, data))).equals(expected)).toBe(true);
      await call(native.encryptInit(tk.session, mech, h));
      const parts = [await call(native.encryptUpdate(tk.session, data.subarray(0, 23))), await call(native.encryptUpdate(tk.session, data.subarray(23))), await call(native.encryptFinal(tk.session))];
      expect(Buffer.concat(parts).equals(expected)).toBe(true);
      expect((await call(native.decrypt(tk.session, mech, h, expected))).equals(data)).toBe(true);
    }
    const gcmIv = crypto.randomBytes(12);
    const g = crypto.createCipheriv('aes-256-gcm', key, gcmIv).setAAD(Buffer.from('aad'));
    const expected = Buffer.concat([g.update(data), g.final(), g.getAuthTag()]);
    const mech = { type: CKM.AES_GCM, iv: gcmIv, aad: Buffer.from('aad'), tagBits: 128 };
    expect((await call(native.encrypt(tk.session, mech, h, data))).equals(expected)).toBe(true);
    await call(native.decryptInit(tk.session, mech, h));
    expect((await call(native.decryptUpdate(tk.session, expected.subarray(0, 40)))).length).toBe(0); // nothing released before the tag
    await call(native.decryptUpdate(tk.session, expected.subarray(40)));
    expect((await call(native.decryptFinal(tk.session))).equals(data)).toBe(true);
  });

  it('HMAC and digests match node:crypto, one-shot and multi-part', async () => {
    const h = await importKey(tk, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.GENERIC_SECRET], [CKA.VALUE, key]], open);
    for (const [name, hm, dg] of [['sha1', CKM.SHA_1_HMAC, CKM.SHA_1], ['sha224', CKM.SHA224_HMAC, CKM.SHA224], ['sha256', CKM.SHA256_HMAC, CKM.SHA256], ['sha384', CKM.SHA384_HMAC, CKM.SHA384], ['sha512', CKM.SHA512_HMAC, CKM.SHA512]] as const) {
      const mac = crypto.createHmac(name, key).update(msg).digest();
      expect((await call(native.sign(tk.session, { type: hm }, h, msg))).equals(mac)).toBe(true);
      await call(native.signInit(tk.session, { type: hm }, h));
      await call(native.signUpdate(tk.session, msg.subarray(0, 5)));
      await call(native.signUpdate(tk.session, msg.subarray(5)));
      expect((await call(native.signFinal(tk.session))).equals(mac)).toBe(true);
      expect((await call(native.digest(tk.session, { type: dg }, msg))).equals(crypto.createHash(name).update(msg).digest())).toBe(true);
    }
  });

  it('AES-CMAC matches a known answer (NIST SP 800-38B example 2)', async () => {
    const k = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
    const h = await importKey(tk, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, k]], open);
    const m = Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex');
    expect((await call(native.sign(tk.session, { type: CKM.AES_CMAC }, h, m))).toString('hex')).toBe('070a16b46b4d4144f79bdd9dd04a287c');
  });
});
