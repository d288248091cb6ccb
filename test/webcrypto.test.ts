// test/webcrypto.test.ts — hsm.subtle against the W3C spec's steps and against Node's own WebCrypto
// (node:crypto's subtle is the reference implementation: what one makes, the other must accept).

import { createDecipheriv, webcrypto, type webcrypto as wc } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { HsmError, SealHsm, type HsmCryptoKey, type HsmSubtleCrypto, type ProfileName } from '../src/index.js';
import { cryptoUser, nameOf } from './helpers/hsm.js';

const ns = webcrypto.subtle;
const open: SealHsm[] = [];
afterAll(() => open.forEach((h) => h.close()));

async function subtleFor(profile: ProfileName = 'pkcs11'): Promise<{ hsm: SealHsm; s: HsmSubtleCrypto }> {
  const hsm = await cryptoUser(profile);
  open.push(hsm);
  return { hsm, s: hsm.subtle };
}

const data = new TextEncoder().encode('the quick brown fox');
const e65537 = new Uint8Array([1, 0, 1]);
const same = (a: ArrayBuffer, b: ArrayBuffer): boolean => Buffer.from(a).equals(Buffer.from(b));
const hsmKey = (k: wc.CryptoKey): HsmCryptoKey => k as HsmCryptoKey;


describe('algorithms the profile offers', () => {
  it('pkcs11 offers every algorithm the core has a mechanism for; the CloudHSM profile leaves out HKDF', async () => {
    const { s } = await subtleFor('pkcs11');
    expect(s.algorithms).toEqual(['AES-CBC', 'AES-CTR', 'AES-GCM', 'AES-KW', 'ECDH', 'ECDSA', 'Ed25519', 'HKDF', 'HMAC', 'PBKDF2', 'RSA-OAEP', 'RSA-PSS', 'RSASSA-PKCS1-v1_5', 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']);
    const c = await subtleFor('cloudhsm');
    expect(c.s.algorithms).not.toContain('HKDF');
    expect(await nameOf(c.s.importKey('raw', new Uint8Array(32), 'HKDF', false, ['deriveBits']))).toBe('NotSupportedError');
  });
});

describe('signatures interoperate with node:crypto both ways', () => {
  const cases: Array<{ gen: wc.RsaHashedKeyGenParams | wc.EcKeyGenParams | wc.Algorithm; sign: wc.AlgorithmIdentifier | wc.RsaPssParams | wc.EcdsaParams; imp: wc.AlgorithmIdentifier | wc.RsaHashedImportParams | wc.EcKeyImportParams }> = [
    ...(['P-256', 'P-384', 'P-521'] as const).flatMap((namedCurve) => (['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const).map((hash) => ({
      gen: { name: 'ECDSA', namedCurve }, sign: { name: 'ECDSA', hash }, imp: { name: 'ECDSA', namedCurve },
    }))),
    ...(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const).flatMap((hash) => [
      { gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: e65537, hash }, sign: 'RSASSA-PKCS1-v1_5', imp: { name: 'RSASSA-PKCS1-v1_5', hash } },
      { gen: { name: 'RSA-PSS', modulusLength: 2048, publicExponent: e65537, hash }, sign: { name: 'RSA-PSS', saltLength: 20 }, imp: { name: 'RSA-PSS', hash } },
      { gen: { name: 'RSA-PSS', modulusLength: 2048, publicExponent: e65537, hash }, sign: { name: 'RSA-PSS', saltLength: 0 }, imp: { name: 'RSA-PSS', hash } },
    ]),
    { gen: { name: 'Ed25519' }, sign: 'Ed25519', imp: 'Ed25519' },
  ];

  it.each(cases.map((c) => [JSON.stringify(c.sign) + ' ' + JSON.stringify({ ...c.gen, publicExponent: undefined }), c] as const))('%s', async (_n, c) => {
    const { s } = await subtleFor();
    const ours = await s.generateKey(c.gen as wc.EcKeyGenParams, false, ['sign', 'verify']) as wc.CryptoKeyPair;
    const sig = await s.sign(c.sign, ours.privateKey, data);
    const theirPublic = await ns.importKey('spki', await s.exportKey('spki', ours.publicKey), c.imp as wc.EcKeyImportParams, true, ['verify']);
    expect(await ns.verify(c.sign, theirPublic, sig, data)).toBe(true);
    expect(await s.verify(c.sign, ours.publicKey, sig, data)).toBe(true);
    const tampered = new Uint8Array(sig);
    tampered[tampered.length - 1]! ^= 1;
    expect(await s.verify(c.sign, ours.publicKey, tampered, data)).toBe(false);
    expect(await s.verify(c.sign, ours.publicKey, tampered.subarray(1), data)).toBe(false);
    // node-made signatures verify with a public key imported into the HSM (jwk this time)
    const theirs = await ns.generateKey(c.gen as wc.EcKeyGenParams, true, ['sign', 'verify']) as wc.CryptoKeyPair;
    const ourPublic = await s.importKey('jwk', await ns.exportKey('jwk', theirs.publicKey), c.imp as wc.EcKeyImportParams, true, ['verify']);
    expect(await s.verify(c.sign, ourPublic, await ns.sign(c.sign, theirs.privateKey, data), data)).toBe(true);
    // and their private key imported into the HSM signs what node verifies
    const ourPrivate = await s.importKey('pkcs8', await ns.exportKey('pkcs8', theirs.privateKey), c.imp as wc.EcKeyImportParams, false, ['sign']);
    expect(await ns.verify(c.sign, theirs.publicKey, await s.sign(c.sign, ourPrivate, data), data)).toBe(true);
  });

  it('HMAC with every hash matches node byte for byte, and verifies in the HSM', async () => {
    const { s } = await subtleFor();
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) {
      const k = await s.generateKey({ name: 'HMAC', hash }, true, ['sign', 'verify']) as wc.CryptoKey;
      expect(k.algorithm).toEqual({ name: 'HMAC', hash: { name: hash }, length: hash === 'SHA-384' || hash === 'SHA-512' ? 1024 : 512 });
      const theirs = await ns.importKey('jwk', await s.exportKey('jwk', k), { name: 'HMAC', hash }, true, ['sign']);
      const mac = await s.sign('HMAC', k, data);
      expect(same(mac, await ns.sign('HMAC', theirs, data))).toBe(true);
      expect(await s.verify('HMAC', k, mac, data)).toBe(true);
      expect(await s.verify('HMAC', k, mac.slice(1), data)).toBe(false);
    }
  });
});

describe('encryption interoperates with node:crypto', () => {
  it('AES-GCM (tag lengths, AAD, long IVs), AES-CBC and AES-CTR both ways', async () => {
    const { s } = await subtleFor();
    const params: Array<wc.AesGcmParams | wc.AesCbcParams | wc.AesCtrParams> = [
      { name: 'AES-GCM', iv: new Uint8Array(12).fill(3) },
      { name: 'AES-GCM', iv: new Uint8Array(12).fill(4), additionalData: data, tagLength: 96 },
      { name: 'AES-GCM', iv: new Uint8Array(60).fill(5), tagLength: 32 },
      { name: 'AES-CBC', iv: new Uint8Array(16).fill(6) },
      { name: 'AES-CTR', counter: new Uint8Array(16).fill(0xff), length: 64 },
      { name: 'AES-CTR', counter: new Uint8Array(16).fill(0xff), length: 8 },
    ];
    for (const p of params) {
      for (const bits of [128, 192, 256]) {
        const raw = webcrypto.getRandomValues(new Uint8Array(bits / 8));
        const ours = await s.importKey('raw', raw, p.name, false, ['encrypt', 'decrypt']);
        const theirs = await ns.importKey('raw', raw, p.name, false, ['encrypt', 'decrypt']);
        for (const size of [0, 1, 16, 1000]) {
          const pt = webcrypto.getRandomValues(new Uint8Array(size));
          const ct = await s.encrypt(p, ours, pt);
          expect(same(ct, await ns.encrypt(p, theirs, pt)), `${p.name}/${bits}/${size}`).toBe(true);
          expect(same(await s.decrypt(p, ours, ct), pt.buffer)).toBe(true);
        }
      }
    }
  });

  it('AES-CTR counts in the low `length` bits only, wrapping inside them, and refuses to reuse a counter block', async () => {
    const { s } = await subtleFor();
    const raw = new Uint8Array(16).fill(7);
    const ours = await s.importKey('raw', raw, 'AES-CTR', false, ['encrypt']);
    const theirs = await ns.importKey('raw', raw, 'AES-CTR', false, ['encrypt']);
    const counter = Uint8Array.from({ length: 16 }, (_, i) => (i < 8 ? i + 1 : 0xff));
    for (const length of [4, 8, 32, 63, 64, 65, 127]) {
      const p = { name: 'AES-CTR', counter, length };
      const pt = new Uint8Array(16 * 16);
      expect(same(await s.encrypt(p, ours, pt), await ns.encrypt(p, theirs, pt)), `length ${length}`).toBe(true);
    }
    expect(await nameOf(s.encrypt({ name: 'AES-CTR', counter, length: 4 }, ours, new Uint8Array(16 * 16 + 1)))).toBe('OperationError');
    expect(await nameOf(s.encrypt({ name: 'AES-CTR', counter, length: 129 }, ours, data))).toBe('OperationError');
    expect(await nameOf(s.encrypt({ name: 'AES-CTR', counter, length: 0 }, ours, data))).toBe('OperationError');
    expect(await nameOf(s.encrypt({ name: 'AES-CTR', counter: new Uint8Array(12), length: 64 }, ours, data))).toBe('OperationError');
    const cbc = await s.importKey('raw', raw, 'AES-CBC', false, ['encrypt']);
    expect(await nameOf(s.encrypt({ name: 'AES-CBC', iv: new Uint8Array(12) }, cbc, data))).toBe('OperationError');
    expect(await nameOf(s.encrypt({ name: 'AES-CBC' } as wc.AesCbcParams, cbc, data))).toBe('TypeError');
  });

  it('RSA-OAEP with each hash and a label; too long a message is an OperationError', async () => {
    const { s } = await subtleFor();
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-512']) {
      const k = await s.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: e65537, hash }, false, ['encrypt', 'decrypt']) as wc.CryptoKeyPair;
      const theirs = await ns.importKey('jwk', await s.exportKey('jwk', k.publicKey), { name: 'RSA-OAEP', hash }, true, ['encrypt']);
      const label = new Uint8Array([1, 2, 3]);
      const ct = await ns.encrypt({ name: 'RSA-OAEP', label }, theirs, data);
      expect(Buffer.from(await s.decrypt({ name: 'RSA-OAEP', label }, k.privateKey, ct)).toString()).toBe('the quick brown fox');
      expect(await nameOf(s.decrypt({ name: 'RSA-OAEP' }, k.privateKey, ct))).toBe('OperationError');
      expect(await nameOf(s.encrypt({ name: 'RSA-OAEP' }, k.publicKey, new Uint8Array(300)))).toBe('OperationError');
    }
  });

  it('a tampered GCM ciphertext, a bad CBC padding and a short ciphertext are OperationErrors with the CKR code as cause', async () => {
    const { s } = await subtleFor();
    const k = await s.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) as wc.CryptoKey;
    const iv = new Uint8Array(12);
    const ct = new Uint8Array(await s.encrypt({ name: 'AES-GCM', iv }, k, data));
    ct[0]! ^= 1;
    const err = await s.decrypt({ name: 'AES-GCM', iv }, k, ct).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe('OperationError');
    expect((err as { cause?: unknown }).cause).toBeInstanceOf(HsmError);
    expect(await nameOf(s.decrypt({ name: 'AES-GCM', iv }, k, new Uint8Array(8)))).toBe('OperationError');
    // An IV chosen so the one block decrypts to a last byte of 0, never valid PKCS#7 padding (a
    // random key and IV would pad correctly by chance one time in about 256).
    const raw = new Uint8Array(16).fill(7);
    const cbc = await s.importKey('raw', raw, 'AES-CBC', false, ['decrypt']);
    const block = createDecipheriv('aes-128-ecb', raw, null).setAutoPadding(false).update(new Uint8Array(16));
    const badIv = new Uint8Array(16);
    badIv[15] = block[15]!;
    expect(await nameOf(s.decrypt({ name: 'AES-CBC', iv: badIv }, cbc, new Uint8Array(16)))).toBe('OperationError');
  });

  it('the CloudHSM profiles choose GCM IVs in the HSM, so GCM encryption is NotSupportedError there (decryption works)', async () => {
    const { s } = await subtleFor('cloudhsm');
    const raw = new Uint8Array(32).fill(9);
    const ours = await s.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    const iv = new Uint8Array(12).fill(1);
    expect(await nameOf(s.encrypt({ name: 'AES-GCM', iv }, ours, data))).toBe('NotSupportedError');
    const ct = await ns.encrypt({ name: 'AES-GCM', iv }, await ns.importKey('raw', raw, 'AES-GCM', false, ['encrypt']), data);
    expect(Buffer.from(await s.decrypt({ name: 'AES-GCM', iv }, ours, ct)).toString()).toBe('the quick brown fox');
  });
});

describe('key derivation', () => {
  it('ECDH deriveBits equals node on every curve, any bit length up to the field, and deriveKey keeps the first bytes of Z in the HSM', async () => {
    const { s } = await subtleFor();
    for (const [namedCurve, bits] of [['P-256', 256], ['P-384', 384], ['P-521', 528]] as const) {
      const ours = await s.generateKey({ name: 'ECDH', namedCurve }, false, ['deriveBits', 'deriveKey']) as wc.CryptoKeyPair;
      expect(ours.publicKey.usages).toEqual([]);
      const theirs = await ns.generateKey({ name: 'ECDH', namedCurve }, true, ['deriveBits']) as wc.CryptoKeyPair;
      const theirPublic = await s.importKey('raw', await ns.exportKey('raw', theirs.publicKey), { name: 'ECDH', namedCurve }, true, []);
      const ourPublic = await ns.importKey('spki', await s.exportKey('spki', ours.publicKey), { name: 'ECDH', namedCurve }, true, []);
      const z = await ns.deriveBits({ name: 'ECDH', public: ourPublic }, theirs.privateKey, bits);
      expect(same(await s.deriveBits({ name: 'ECDH', public: theirPublic }, ours.privateKey, bits), z)).toBe(true);
      expect(same(await s.deriveBits({ name: 'ECDH', public: theirPublic }, ours.privateKey, null as unknown as number), z)).toBe(true);
      const partial = new Uint8Array(await s.deriveBits({ name: 'ECDH', public: theirPublic }, ours.privateKey, 13));
      expect([...partial]).toEqual([new Uint8Array(z)[0], new Uint8Array(z)[1]! & 0xf8]);
      expect(await nameOf(s.deriveBits({ name: 'ECDH', public: theirPublic }, ours.privateKey, bits + 8))).toBe('OperationError');
      const k = await s.deriveKey({ name: 'ECDH', public: theirPublic }, ours.privateKey, { name: 'AES-GCM', length: 128 }, true, ['encrypt']) as wc.CryptoKey;
      expect(k.algorithm).toEqual({ name: 'AES-GCM', length: 128 });
      expect(same(await s.exportKey('raw', k), z.slice(0, 16))).toBe(true);
      const sealed = await s.deriveKey({ name: 'ECDH', public: theirPublic }, ours.privateKey, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']) as wc.CryptoKey;
      const info = await hsmKey(sealed).handle.info();
      expect([info.attributes.sensitive, info.attributes.extractable]).toEqual([true, false]);
    }
  });

  it('ECDH refuses a public key on another curve, of another algorithm, or private (InvalidAccessError)', async () => {
    const { s } = await subtleFor();
    const a = await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']) as wc.CryptoKeyPair;
    const b = await s.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, false, ['deriveBits']) as wc.CryptoKeyPair;
    const ecdsa = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as wc.CryptoKeyPair;
    expect(await nameOf(s.deriveBits({ name: 'ECDH', public: b.publicKey }, a.privateKey, 256))).toBe('InvalidAccessError');
    expect(await nameOf(s.deriveBits({ name: 'ECDH', public: ecdsa.publicKey }, a.privateKey, 256))).toBe('InvalidAccessError');
    expect(await nameOf(s.deriveBits({ name: 'ECDH', public: a.privateKey }, a.privateKey, 256))).toBe('InvalidAccessError');
    expect(await nameOf(s.deriveBits({ name: 'ECDH', public: {} as wc.CryptoKey }, a.privateKey, 256))).toBe('TypeError');
    expect(await nameOf(s.deriveBits({ name: 'ECDH' } as wc.EcdhKeyDeriveParams, a.privateKey, 256))).toBe('TypeError');
  });

  it('HKDF deriveBits and deriveKey equal node for each hash; a null or odd length is an OperationError', async () => {
    const { s } = await subtleFor();
    const ikm = webcrypto.getRandomValues(new Uint8Array(42));
    const ours = await s.importKey('raw', ikm, 'HKDF', false, ['deriveBits', 'deriveKey']);
    const theirs = await ns.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) {
      for (const salt of [new Uint8Array(0), new Uint8Array(13).fill(1)]) {
        const p = { name: 'HKDF', hash, salt, info: new Uint8Array([7, 7]) };
        const bits = await ns.deriveBits(p, theirs, 512);
        expect(same(await s.deriveBits(p, ours, 512), bits)).toBe(true);
        const k = await s.deriveKey(p, ours, { name: 'AES-CBC', length: 256 }, true, ['encrypt']) as wc.CryptoKey;
        expect(same(await s.exportKey('raw', k), bits.slice(0, 32))).toBe(true);
      }
    }
    const p = { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new Uint8Array(0) };
    expect((await s.deriveBits(p, ours, 0)).byteLength).toBe(0);
    expect(await nameOf(s.deriveBits(p, ours, null as unknown as number))).toBe('OperationError');
    expect(await nameOf(s.deriveBits(p, ours, 12))).toBe('OperationError');
    expect(await nameOf(s.importKey('raw', ikm, 'HKDF', true, ['deriveBits']))).toBe('SyntaxError');
  });

  it('PBKDF2 runs outside the HSM and deriveKey imports the result as a sealed key', async () => {
    const { s } = await subtleFor('cloudhsm');
    const pw = new TextEncoder().encode('correct horse battery staple');
    const p = { name: 'PBKDF2', hash: 'SHA-256', salt: new Uint8Array(16).fill(2), iterations: 1000 };
    const ours = await s.importKey('raw', pw, 'PBKDF2', false, ['deriveKey', 'deriveBits']);
    const theirs = await ns.importKey('raw', pw, 'PBKDF2', false, ['deriveBits']);
    const bits = await ns.deriveBits(p, theirs, 256);
    expect(same(await s.deriveBits(p, ours, 256), bits)).toBe(true);
    const k = await s.deriveKey(p, ours, { name: 'AES-CBC', length: 256 }, false, ['encrypt', 'decrypt']) as wc.CryptoKey;
    const info = await hsmKey(k).handle.info();
    expect([info.type, info.attributes.sensitive, info.attributes.extractable]).toEqual(['aes', true, false]);
    const iv = new Uint8Array(16);
    const expected = await ns.encrypt({ name: 'AES-CBC', iv }, await ns.importKey('raw', bits, 'AES-CBC', false, ['encrypt']), data);
    expect(same(await s.encrypt({ name: 'AES-CBC', iv }, k, data), expected)).toBe(true);
    expect(await nameOf(s.deriveBits({ ...p, iterations: 0 }, ours, 256))).toBe('OperationError');
  });
});

describe('wrapKey and unwrapKey', () => {
  it('raw and pkcs8 wrap inside the HSM and unwrap in node (and back); jwk and spki wrap as bytes', async () => {
    const { s } = await subtleFor();
    const kw = await s.generateKey({ name: 'AES-KW', length: 256 }, true, ['wrapKey', 'unwrapKey']) as wc.CryptoKey;
    const theirKw = await ns.importKey('raw', await s.exportKey('raw', kw), 'AES-KW', false, ['wrapKey', 'unwrapKey']);
    const aes = await s.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']) as wc.CryptoKey;
    const wrapped = await s.wrapKey('raw', aes, kw, 'AES-KW');
    const back = await ns.unwrapKey('raw', wrapped, theirKw, 'AES-KW', 'AES-GCM', true, ['encrypt']);
    expect(same(await ns.exportKey('raw', back), await s.exportKey('raw', aes))).toBe(true);
    const unwrapped = await s.unwrapKey('raw', wrapped, kw, 'AES-KW', 'AES-GCM', false, ['decrypt']) as HsmCryptoKey;
    expect(unwrapped.algorithm).toEqual({ name: 'AES-GCM', length: 256 });
    expect((await unwrapped.handle.info()).attributes.sensitive).toBe(true);

    const cbc = await s.generateKey({ name: 'AES-CBC', length: 128 }, true, ['wrapKey', 'unwrapKey']) as wc.CryptoKey;
    const theirCbc = await ns.importKey('raw', await s.exportKey('raw', cbc), 'AES-CBC', false, ['wrapKey', 'unwrapKey']);
    const iv = new Uint8Array(16).fill(8);
    const pair = await s.generateKey({ name: 'RSA-PSS', modulusLength: 2048, publicExponent: e65537, hash: 'SHA-256' }, true, ['sign', 'verify']) as wc.CryptoKeyPair;
    const wrappedPrivate = await s.wrapKey('pkcs8', pair.privateKey, cbc, { name: 'AES-CBC', iv });
    const theirPrivate = await ns.unwrapKey('pkcs8', wrappedPrivate, theirCbc, { name: 'AES-CBC', iv }, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign']);
    expect(await s.verify({ name: 'RSA-PSS', saltLength: 32 }, pair.publicKey, await ns.sign({ name: 'RSA-PSS', saltLength: 32 }, theirPrivate, data), data)).toBe(true);
    const ourPrivate = await s.unwrapKey('pkcs8', wrappedPrivate, cbc, { name: 'AES-CBC', iv }, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign']);
    expect(ourPrivate.algorithm).toMatchObject({ name: 'RSA-PSS', modulusLength: 2048, hash: { name: 'SHA-256' } });
    expect(await s.verify({ name: 'RSA-PSS', saltLength: 32 }, pair.publicKey, await s.sign({ name: 'RSA-PSS', saltLength: 32 }, ourPrivate, data), data)).toBe(true);

    const hmac = await s.generateKey({ name: 'HMAC', hash: 'SHA-256', length: 256 }, true, ['sign']) as wc.CryptoKey;
    const wrappedJwk = await s.wrapKey('jwk', hmac, cbc, { name: 'AES-CBC', iv });
    const jwkBack = await ns.unwrapKey('jwk', wrappedJwk, theirCbc, { name: 'AES-CBC', iv }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
    expect(same(await ns.exportKey('raw', jwkBack), await s.exportKey('raw', hmac))).toBe(true);
    const ours = await s.unwrapKey('jwk', wrappedJwk, cbc, { name: 'AES-CBC', iv }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    expect(same(await s.sign('HMAC', ours, data), await s.sign('HMAC', hmac, data))).toBe(true);

    const wrappedSpki = await s.wrapKey('spki', pair.publicKey, cbc, { name: 'AES-CBC', iv });
    const pub = await s.unwrapKey('spki', wrappedSpki, cbc, { name: 'AES-CBC', iv }, { name: 'RSA-PSS', hash: 'SHA-256' }, true, ['verify']);
    expect(same(await s.exportKey('spki', pub), await s.exportKey('spki', pair.publicKey))).toBe(true);
  });

  it('AES-CTR wraps inside the HSM as node wraps, and unwraps what node wrapped (it was CKR_MECHANISM_INVALID)', async () => {
    const { s } = await subtleFor();
    const ctr = await s.generateKey({ name: 'AES-CTR', length: 256 }, true, ['wrapKey', 'unwrapKey']) as wc.CryptoKey;
    const theirCtr = await ns.importKey('raw', await s.exportKey('raw', ctr), 'AES-CTR', false, ['wrapKey', 'unwrapKey']);
    const params = { name: 'AES-CTR', counter: new Uint8Array(16).fill(5), length: 64 };
    const aes = await s.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt', 'decrypt']) as wc.CryptoKey;
    const wrapped = await s.wrapKey('raw', aes, ctr, params);
    const theirs = await ns.wrapKey('raw', await ns.importKey('raw', await s.exportKey('raw', aes), 'AES-GCM', true, ['encrypt']), theirCtr, params);
    expect(same(wrapped, theirs)).toBe(true);
    const back = await s.unwrapKey('raw', theirs, ctr, params, 'AES-GCM', true, ['encrypt']);
    expect(same(await s.exportKey('raw', back), await s.exportKey('raw', aes))).toBe(true);
  });

  it('RSA-OAEP wraps an AES key that node unwraps; AES-GCM wraps on the pkcs11 profile', async () => {
    const { s } = await subtleFor();
    const rsa = await s.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: e65537, hash: 'SHA-256' }, true, ['wrapKey', 'unwrapKey']) as wc.CryptoKeyPair;
    const aes = await s.generateKey({ name: 'AES-CTR', length: 128 }, true, ['encrypt']) as wc.CryptoKey;
    const wrapped = await s.wrapKey('raw', aes, rsa.publicKey, 'RSA-OAEP');
    const back = await s.unwrapKey('raw', wrapped, rsa.privateKey, 'RSA-OAEP', 'AES-CTR', true, ['encrypt']);
    expect(same(await s.exportKey('raw', back), await s.exportKey('raw', aes))).toBe(true);
    const gcm = await s.generateKey({ name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']) as wc.CryptoKey;
    const iv = new Uint8Array(12).fill(1);
    const w2 = await s.wrapKey('raw', aes, gcm, { name: 'AES-GCM', iv });
    const b2 = await s.unwrapKey('raw', w2, gcm, { name: 'AES-GCM', iv }, 'AES-CTR', true, ['decrypt']);
    expect(same(await s.exportKey('raw', b2), await s.exportKey('raw', aes))).toBe(true);
    expect(await nameOf(s.unwrapKey('raw', new Uint8Array(w2).fill(0), gcm, { name: 'AES-GCM', iv }, 'AES-CTR', true, ['decrypt']))).toBe('OperationError');
  });

  it('a non-extractable key cannot be wrapped, and a key without wrapKey usage cannot wrap (InvalidAccessError)', async () => {
    const { s } = await subtleFor();
    const kw = await s.generateKey({ name: 'AES-KW', length: 128 }, false, ['wrapKey']) as wc.CryptoKey;
    const kwUnwrapOnly = await s.generateKey({ name: 'AES-KW', length: 128 }, false, ['unwrapKey']) as wc.CryptoKey;
    const sealed = await s.generateKey({ name: 'AES-GCM', length: 128 }, false, ['encrypt']) as wc.CryptoKey;
    const open = await s.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt']) as wc.CryptoKey;
    expect(await nameOf(s.wrapKey('raw', sealed, kw, 'AES-KW'))).toBe('InvalidAccessError');
    expect(await nameOf(s.wrapKey('raw', open, kwUnwrapOnly, 'AES-KW'))).toBe('InvalidAccessError');
    expect(await nameOf(s.wrapKey('raw', open, kw, 'AES-GCM'))).toBe('InvalidAccessError');
  });
});

describe('Ed25519 JWKs, JWKs without kty, PBKDF2 with no iterations: as node answers them', () => {
  it('alg is Ed25519 or EdDSA exactly; a private JWK whose x is not d\'s public key is DataError; export writes alg as node does', async () => {
    const { s } = await subtleFor();
    const nk = await ns.generateKey('Ed25519', true, ['sign', 'verify']) as wc.CryptoKeyPair;
    const jwk = await ns.exportKey('jwk', nk.privateKey);
    const other = await ns.exportKey('jwk', (await ns.generateKey('Ed25519', true, ['sign', 'verify']) as wc.CryptoKeyPair).publicKey);
    const { alg: _alg, ...noAlg } = jwk;
    expect(await nameOf(s.importKey('jwk', noAlg, 'Ed25519', true, ['sign']))).toBe('resolved');
    for (const alg of ['Ed25519', 'EdDSA']) expect([alg, await nameOf(s.importKey('jwk', { ...jwk, alg }, 'Ed25519', true, ['sign']))]).toEqual([alg, 'resolved']);
    for (const alg of ['ed25519', 'ED25519', 'ES256']) expect([alg, await nameOf(s.importKey('jwk', { ...jwk, alg }, 'Ed25519', true, ['sign']))]).toEqual([alg, 'DataError']);
    expect(await nameOf(s.importKey('jwk', { ...jwk, x: other.x! }, 'Ed25519', true, ['sign']))).toBe('DataError');
    const { x: _x, ...withoutX } = jwk;
    expect(await nameOf(s.importKey('jwk', withoutX, 'Ed25519', true, ['sign']))).toBe('DataError');
    const ours = await s.generateKey('Ed25519', true, ['sign', 'verify']) as wc.CryptoKeyPair;
    const exported = await s.exportKey('jwk', ours.publicKey) as wc.JsonWebKey;
    const nodes = await ns.exportKey('jwk', nk.publicKey);
    expect(Object.keys(exported).sort()).toEqual(Object.keys(nodes).sort());
    expect(exported.alg).toBe('Ed25519');
  });

  it('SPKI with a compressed EC point imports, as the same point raw does, and verifies node\'s signatures', async () => {
    const { s } = await subtleFor();
    for (const [curve, size, prefix] of [['P-256', 32, '3039301306072a8648ce3d020106082a8648ce3d030107032200'], ['P-384', 48, '3046301006072a8648ce3d020106052b81040022033200']] as const) {
      const pair = await ns.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']) as wc.CryptoKeyPair;
      const raw = Buffer.from(await ns.exportKey('raw', pair.publicKey));
      const compressed = Buffer.concat([Buffer.from([0x02 | (raw[raw.length - 1]! & 1)]), raw.subarray(1, 1 + size)]);
      const pub = await s.importKey('spki', Buffer.concat([Buffer.from(prefix, 'hex'), compressed]), { name: 'ECDSA', namedCurve: curve }, true, ['verify']);
      const hash = curve === 'P-256' ? 'SHA-256' : 'SHA-384';
      const sig = await ns.sign({ name: 'ECDSA', hash }, pair.privateKey, data);
      expect([curve, await s.verify({ name: 'ECDSA', hash }, pub, sig, data)]).toEqual([curve, true]);
    }
  });

  it('a JWK without kty is DataError (not TypeError); PBKDF2 deriveKey with 0 iterations is OperationError', async () => {
    const { s } = await subtleFor();
    expect(await nameOf(s.importKey('jwk', { k: 'AAAAAAAAAAAAAAAAAAAAAA' }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']))).toBe('DataError');
    expect(await nameOf(ns.importKey('jwk', { k: 'AAAAAAAAAAAAAAAAAAAAAA' }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']))).toBe('DataError');
    const password = await s.importKey('raw', new Uint8Array(8), 'PBKDF2', false, ['deriveKey']);
    const params = { name: 'PBKDF2', salt: new Uint8Array(8), iterations: 0, hash: 'SHA-256' };
    expect(await nameOf(s.deriveKey(params, password, { name: 'AES-GCM', length: 128 }, false, ['encrypt']))).toBe('OperationError');
  });
});

describe('the spec\'s error names', () => {
  it('generateKey: names, usages, parameters', async () => {
    const { s } = await subtleFor();
    const gen = (a: unknown, u: string[], x = true) => nameOf(s.generateKey(a as wc.AlgorithmIdentifier, x, u as wc.KeyUsage[]));
    expect(await gen({ name: 'AES-GCM', length: 128 }, ['sign'])).toBe('SyntaxError');
    expect(await gen({ name: 'AES-GCM', length: 128 }, [])).toBe('SyntaxError');
    expect(await gen({ name: 'ECDSA', namedCurve: 'P-256' }, ['verify'])).toBe('SyntaxError');
    expect(await gen({ name: 'ECDH', namedCurve: 'P-256' }, ['sign'])).toBe('SyntaxError');
    expect(await gen({ name: 'AES-GCM', length: 128 }, ['encrypt', 'bogus'])).toBe('TypeError');
    expect(await gen({ name: 'AES-GCM', length: 100 }, ['encrypt'])).toBe('OperationError');
    expect(await gen({ name: 'AES-GCM' }, ['encrypt'])).toBe('TypeError');
    expect(await gen({ name: 'ECDSA', namedCurve: 'P-25519' }, ['sign'])).toBe('NotSupportedError');
    expect(await gen({ name: 'ECDSA' }, ['sign'])).toBe('TypeError');
    expect(await gen({ name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 0]), hash: 'SHA-256' }, ['sign'])).toBe('OperationError');
    expect(await gen({ name: 'RSA-PSS', modulusLength: 2048, publicExponent: e65537, hash: 'SHA-3' }, ['sign'])).toBe('NotSupportedError');
    expect(await gen({ name: 'HMAC', hash: 'MD5' }, ['sign'])).toBe('NotSupportedError');
    expect(await gen({ name: 'HMAC', hash: 'SHA-256', length: 0 }, ['sign'])).toBe('OperationError');
    expect(await gen({ name: 'DES' }, ['encrypt'])).toBe('NotSupportedError');
    expect(await gen({ length: 128 }, ['encrypt'])).toBe('TypeError');
    expect(await gen('SHA-256', ['sign'])).toBe('NotSupportedError');
    expect(await gen({ name: 'aes-gcm', length: 128 }, ['encrypt'])).toBe('resolved');
    const k = await s.generateKey({ name: 'aes-GCM', length: 128 }, true, ['decrypt', 'encrypt', 'decrypt']) as wc.CryptoKey;
    expect([k.algorithm.name, k.usages, k.type, k.extractable]).toEqual(['AES-GCM', ['encrypt', 'decrypt'], 'secret', true]);
    expect(Object.prototype.toString.call(k)).toBe('[object CryptoKey]');
  });

  it('operations: algorithm support, key algorithm and usage', async () => {
    const { s } = await subtleFor();
    const ec = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as wc.CryptoKeyPair;
    const hmac = await s.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['verify']) as wc.CryptoKey;
    expect(await nameOf(s.sign('AES-GCM', ec.privateKey, data))).toBe('NotSupportedError');
    expect(await nameOf(s.sign('HMAC', ec.privateKey, data))).toBe('InvalidAccessError');
    expect(await nameOf(s.sign('HMAC', hmac, data))).toBe('InvalidAccessError');
    expect(await nameOf(s.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.publicKey, data))).toBe('InvalidAccessError');
    expect(await nameOf(s.sign({ name: 'ECDSA' }, ec.privateKey, data))).toBe('TypeError');
    expect(await nameOf(s.sign({ name: 'ECDSA', hash: 'SHA-256' }, {} as wc.CryptoKey, data))).toBe('TypeError');
    expect(await nameOf(s.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, 'text' as unknown as Uint8Array))).toBe('TypeError');
    expect(await nameOf((s.sign as (...a: unknown[]) => Promise<unknown>)({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey))).toBe('TypeError');
  });

  it('import: bad key data is a DataError, JWK members are checked, usages are SyntaxErrors', async () => {
    const { s } = await subtleFor();
    expect(await nameOf(s.importKey('raw', new Uint8Array(15), 'AES-GCM', true, ['encrypt']))).toBe('DataError');
    expect(await nameOf(s.importKey('spki', new Uint8Array(40), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']))).toBe('DataError');
    expect(await nameOf(s.importKey('pkcs8', new Uint8Array(40), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']))).toBe('DataError');
    expect(await nameOf(s.importKey('raw', new Uint8Array(65).fill(4), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']))).toBe('DataError');
    expect(await nameOf(s.importKey('raw', new Uint8Array(32), { name: 'RSA-PSS', hash: 'SHA-256' }, true, ['verify']))).toBe('NotSupportedError');
    const theirs = await ns.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']) as wc.CryptoKeyPair;
    const spki = await ns.exportKey('spki', theirs.publicKey);
    expect(await nameOf(s.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']))).toBe('DataError');
    expect(await nameOf(s.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign']))).toBe('SyntaxError');
    expect(await nameOf(s.importKey('pkcs8', await ns.exportKey('pkcs8', theirs.privateKey), { name: 'ECDSA', namedCurve: 'P-384' }, true, []))).toBe('SyntaxError');
    const jwk = await ns.exportKey('jwk', await ns.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt']));
    expect(await nameOf(s.importKey('jwk', { ...jwk, alg: 'A256GCM' }, 'AES-GCM', true, ['encrypt']))).toBe('DataError');
    expect(await nameOf(s.importKey('jwk', { ...jwk, key_ops: ['decrypt'] }, 'AES-GCM', true, ['encrypt']))).toBe('DataError');
    expect(await nameOf(s.importKey('jwk', { ...jwk, ext: false }, 'AES-GCM', true, ['encrypt']))).toBe('DataError');
    expect(await nameOf(s.importKey('jwk', { ...jwk, kty: 'EC' }, 'AES-GCM', true, ['encrypt']))).toBe('DataError');
    expect(await nameOf(s.importKey('jwk', { ...jwk, use: 'sig' }, 'AES-GCM', true, ['encrypt']))).toBe('DataError');
    expect(await nameOf(s.importKey('jwk', jwk, 'AES-CBC', true, ['encrypt']))).toBe('DataError');
    expect(await nameOf(s.importKey('jwk', jwk, 'AES-GCM', true, ['encrypt']))).toBe('resolved');
    expect(await nameOf(s.importKey('raw' as 'raw', jwk as unknown as Uint8Array, 'AES-GCM', true, ['encrypt']))).toBe('TypeError');
    expect(await nameOf(s.importKey('der' as 'raw', new Uint8Array(16), 'AES-GCM', true, ['encrypt']))).toBe('TypeError');
  });

  it('export: non-extractable is InvalidAccessError; private keys never leave (NotSupportedError); public keys always can', async () => {
    const { s } = await subtleFor();
    const pair = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as wc.CryptoKeyPair;
    expect(pair.publicKey.extractable).toBe(true);
    expect(await nameOf(s.exportKey('pkcs8', pair.privateKey))).toBe('NotSupportedError');
    expect(await nameOf(s.exportKey('jwk', pair.privateKey))).toBe('NotSupportedError');
    expect(await nameOf(s.exportKey('spki', pair.privateKey))).toBe('InvalidAccessError');
    expect(await nameOf(s.exportKey('pkcs8', pair.publicKey))).toBe('InvalidAccessError');
    const jwk = await s.exportKey('jwk', pair.publicKey);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', key_ops: ['verify'], ext: true });
    expect(jwk.d).toBeUndefined();
    expect(new Uint8Array(await s.exportKey('raw', pair.publicKey))[0]).toBe(4);
    const sealed = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']) as wc.CryptoKeyPair;
    expect(await nameOf(s.exportKey('pkcs8', sealed.privateKey))).toBe('InvalidAccessError');
    const aes = await s.generateKey({ name: 'AES-KW', length: 192 }, false, ['wrapKey']) as wc.CryptoKey;
    expect(await nameOf(s.exportKey('raw', aes))).toBe('InvalidAccessError');
    const rsa = await s.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: e65537, hash: 'SHA-384' }, false, ['verify', 'sign']) as wc.CryptoKeyPair;
    expect(await s.exportKey('jwk', rsa.publicKey)).toMatchObject({ kty: 'RSA', alg: 'RS384', e: 'AQAB' });
    expect(await nameOf(s.exportKey('raw', rsa.publicKey))).toBe('NotSupportedError');
  });
});

describe('the seal and the token', () => {
  it('extractable maps to the key\'s PKCS#11 attributes; usages map to its usage flags', async () => {
    const { s } = await subtleFor();
    const sealed = hsmKey(await s.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']) as wc.CryptoKey);
    const open = hsmKey(await s.generateKey({ name: 'AES-GCM', length: 256 }, true, ['decrypt']) as wc.CryptoKey);
    const a = (await sealed.handle.info()).attributes;
    const b = (await open.handle.info()).attributes;
    expect([a.sensitive, a.extractable, a.encrypt, a.decrypt]).toEqual([true, false, true, false]);
    expect([b.sensitive, b.extractable, b.encrypt, b.decrypt]).toEqual([false, true, false, true]);
    const pair = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']) as wc.CryptoKeyPair;
    const p = (await hsmKey(pair.privateKey).handle.info()).attributes;
    expect([p.sensitive, p.extractable, p.sign]).toEqual([true, true, true]);
    expect(s.handleOf(pair.privateKey).ref).toBe(hsmKey(pair.privateKey).handle.ref);
    expect(() => s.handleOf({} as wc.CryptoKey)).toThrow(TypeError);
  });

  it('fromHandle makes CryptoKeys of keys made with hsm.keys; usages come from the key\'s flags', async () => {
    const { hsm, s } = await subtleFor('cloudhsm');
    const pair = await hsm.keys.generateEc({ curve: 'secp384r1', label: 'cli-made' });
    const [found] = await hsm.keys.find({ label: 'cli-made', class: 'private-key' });
    const priv = await s.fromHandle(found!);
    const pub = await s.fromHandle(pair.publicKey);
    expect([priv.algorithm, priv.usages, priv.type, pub.usages, pub.type]).toEqual([{ name: 'ECDSA', namedCurve: 'P-384' }, ['sign'], 'private', ['verify'], 'public']);
    const sig = await s.sign({ name: 'ECDSA', hash: 'SHA-384' }, priv, data);
    expect(await pair.publicKey.verify(data, new Uint8Array(sig), 'ECDSA_SHA384')).toBe(true);
    const rsa = await hsm.keys.generateRsa({ modulusBits: 2048 });
    const rsaKey = await s.fromHandle(rsa.privateKey, { name: 'RSA-PSS', hash: 'SHA-512' });
    expect(rsaKey.algorithm).toMatchObject({ name: 'RSA-PSS', modulusLength: 2048, hash: { name: 'SHA-512' } });
    const aes = await hsm.keys.generateAes({ bits: 128 });
    expect((await s.fromHandle(aes, 'AES-CBC')).usages).toEqual(['encrypt', 'decrypt']);
    expect(await nameOf(s.fromHandle(aes, 'ECDSA'))).toBe('InvalidAccessError');
    expect(await nameOf(s.fromHandle(aes, 'AES-SIV'))).toBe('NotSupportedError');
  });

  it('keys made through hsm.subtle on a persistent token can be token keys with a label, found again after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealhsm-wc-'));
    try {
      const hsm = await SealHsm.open({ dir, create: true });
      await hsm.activate('admin-password');
      await hsm.login('admin', 'admin-password');
      await hsm.users.create('svc', 'svc-password');
      hsm.logout();
      await hsm.login('svc', 'svc-password');
      const pair = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'], { token: true, label: 'jwt-signer' });
      const pub = await hsm.subtle.exportKey('raw', pair.publicKey);
      const sig = await hsm.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, data);
      await hsm.subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'], { token: true, label: 'mac' });
      hsm.close();

      const again = await SealHsm.open({ dir });
      await again.login('svc', 'svc-password');
      const [priv] = await again.keys.find({ label: 'jwt-signer', class: 'private-key' });
      const [pubKey] = await again.keys.find({ label: 'jwt-signer', class: 'public-key' });
      const info = await priv!.info();
      expect(info.token).toBe(true);
      // CKA_ID is the SHA-1 of the public point: how certificates find their key
      expect(Buffer.from(info.id).toString('hex')).toBe(Buffer.from(await ns.digest('SHA-1', pub)).toString('hex'));
      const verifyKey = await again.subtle.fromHandle(pubKey!);
      expect(await again.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifyKey, sig, data)).toBe(true);
      const [mac] = await again.keys.find({ label: 'mac' });
      const macKey = await again.subtle.fromHandle(mac!, { name: 'HMAC', hash: 'SHA-256' });
      const expected = await ns.sign('HMAC', await ns.importKey('raw', new Uint8Array(32).fill(1), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), data);
      expect(same(await again.subtle.sign('HMAC', macKey, data), expected)).toBe(true);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hundreds of concurrent sign calls all succeed (node-webcrypto-p11 manages one of N)', async () => {
    const { s } = await subtleFor('cloudhsm');
    const pair = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as wc.CryptoKeyPair;
    const aes = await s.generateKey({ name: 'AES-CBC', length: 256 }, false, ['encrypt']) as wc.CryptoKey;
    const sigs = await Promise.all(Array.from({ length: 400 }, (_, i) => s.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, new Uint8Array([i & 0xff, i >> 8]))));
    const cts = await Promise.all(Array.from({ length: 200 }, () => s.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, aes, data)));
    expect(sigs).toHaveLength(400);
    expect(new Set(cts.map((c) => Buffer.from(c).toString('hex'))).size).toBe(1);
    const ok = await Promise.all(sigs.map((sig, i) => s.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, sig, new Uint8Array([i & 0xff, i >> 8]))));
    expect(ok.every(Boolean)).toBe(true);
  });

  it('digest runs in the HSM and equals node; the Crypto object has getRandomValues and randomUUID', async () => {
    const { hsm, s } = await subtleFor('cloudhsm');
    for (const h of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) expect(same(await s.digest(h, data), await ns.digest(h, data))).toBe(true);
    expect(await nameOf(s.digest('MD5', data))).toBe('NotSupportedError');
    const buf = hsm.crypto.getRandomValues(new Uint8Array(32));
    expect(buf.some((b) => b !== 0)).toBe(true);
    expect(hsm.crypto.randomUUID()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
