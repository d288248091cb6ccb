// test/hardening_inputs.test.ts
// Issue "harden the seal", hostile inputs through the addon: inconsistent RSA and EC key material
// is refused on import and on unwrap (CKR_ATTRIBUTE_VALUE_INVALID / CKR_WRAPPED_KEY_INVALID), and
// templates nest one level only (a template that holds itself, or 30,000 levels, is an error, not
// a stack overflow). The C-ABI cases (4 GiB AAD, PSS salt length, misaligned parameters) are in
// test/c/hardening_test.c.

import * as crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

import { CKA, CKK, CKM, CKO, native, type NativeTemplate } from '../src/index.js';
import { codeOf, importKey, openToken } from './helpers/hsm.js';

const tk = await openToken('hardening');
afterAll(() => tk.close());

const b64u = (s: string | undefined) => Buffer.from(s!, 'base64url');
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

function rsaPrivate(over: Partial<Record<'n' | 'e' | 'd' | 'p' | 'q' | 'dp' | 'dq' | 'qi', Buffer>>, crt = true): NativeTemplate {
  const v = (k: keyof typeof over) => over[k] ?? b64u(rsa[k]);
  const base: NativeTemplate = [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.RSA], [CKA.MODULUS, v('n')], [CKA.PUBLIC_EXPONENT, v('e')],
    [CKA.PRIVATE_EXPONENT, v('d')], [CKA.SIGN, true]];
  const crtParts: NativeTemplate = [[CKA.PRIME_1, v('p')], [CKA.PRIME_2, v('q')], [CKA.EXPONENT_1, v('dp')], [CKA.EXPONENT_2, v('dq')], [CKA.COEFFICIENT, v('qi')]];
  return crt ? [...base, ...crtParts] : base;
}

describe('imported key material is checked for consistency', () => {
  it('a good RSA key imports, with and without its CRT values', async () => {
    await expect(importKey(tk, rsaPrivate({}))).resolves.toBeGreaterThan(0);
    await expect(importKey(tk, rsaPrivate({}, false))).resolves.toBeGreaterThan(0);
  });

  it('RSA: n = 2^2048 - 1 (with e = 3 or 65537), d = 0 or 1, p = q = 1 are refused', async () => {
    const allOnes = Buffer.alloc(256, 0xff);
    const pub = (n: Buffer, e: Buffer): NativeTemplate => [[CKA.CLASS, CKO.PUBLIC_KEY], [CKA.KEY_TYPE, CKK.RSA], [CKA.MODULUS, n], [CKA.PUBLIC_EXPONENT, e]];
    expect(await codeOf(importKey(tk, pub(allOnes, Buffer.from([1, 0, 1]))))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(importKey(tk, pub(allOnes, Buffer.from([3]))))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    // A sound modulus with e = 3 is a legitimate (legacy) verification key: Wycheproof has such groups.
    const e3 = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey.export({ format: 'jwk' });
    await expect(importKey(tk, pub(b64u(e3.n), b64u(e3.e)))).resolves.toBeGreaterThan(0);
    expect(await codeOf(importKey(tk, rsaPrivate({ d: Buffer.from([0]) }, false)))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(importKey(tk, rsaPrivate({ d: Buffer.from([1]) }, false)))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(importKey(tk, rsaPrivate({ d: Buffer.from([1]) })))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(importKey(tk, rsaPrivate({ p: Buffer.from([1]), q: Buffer.from([1]) })))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
  });

  it('RSA numbers that do not fit together are refused, through the template and as PKCS#8 (checked in the secure heap, not by a primality test)', async () => {
    const plus = (name: 'n' | 'e' | 'd' | 'p' | 'q' | 'dp' | 'dq' | 'qi', k: bigint) => {
      const v = BigInt(`0x${b64u(rsa[name]).toString('hex')}`) + k;
      return Buffer.from(v.toString(16).padStart(2 * Math.ceil(v.toString(16).length / 2), '0'), 'hex');
    };
    const bad: Array<[string, Partial<Record<'n' | 'e' | 'd' | 'p' | 'q' | 'dp' | 'dq' | 'qi', Buffer>>]> = [
      ['dp', { dp: plus('dp', 2n) }], ['dq', { dq: plus('dq', 2n) }], ['qi', { qi: plus('qi', 1n) }],
      ['p and q swapped', { p: b64u(rsa.q), q: b64u(rsa.p) }], ['p = q', { q: b64u(rsa.p) }], ['e', { e: Buffer.from([1, 0, 3]) }],
      ['n', { n: plus('n', 2n) }], ['d', { d: plus('d', 2n) }],
    ];
    for (const [what, over] of bad) expect([what, await codeOf(importKey(tk, rsaPrivate(over)))]).toEqual([what, 'CKR_ATTRIBUTE_VALUE_INVALID']);
    // The same through the PKCS#8 door (a key with its qi changed, re-encoded by node).
    const tampered = crypto.createPrivateKey({ key: { ...rsa, qi: plus('qi', 1n).toString('base64url') }, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' });
    expect(await codeOf(importKey(tk, [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.RSA], [CKA.SEALHSM_PKCS8, tampered], [CKA.SIGN, true]]))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
  });

  it('EC: a point off the curve and a scalar out of range are refused', async () => {
    const params = Buffer.from('06082a8648ce3d030107', 'hex'); // P-256
    const point = Buffer.concat([Buffer.from([0x04, 0x41, 0x04]), Buffer.alloc(32, 1), Buffer.alloc(32, 2)]);
    expect(await codeOf(importKey(tk, [[CKA.CLASS, CKO.PUBLIC_KEY], [CKA.KEY_TYPE, CKK.EC], [CKA.EC_PARAMS, params], [CKA.EC_POINT, point]]))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    const order = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    for (const d of [Buffer.alloc(32), order]) {
      expect(await codeOf(importKey(tk, [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.EC], [CKA.EC_PARAMS, params], [CKA.VALUE, d]]))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    }
  });

  it('an unwrapped private key with an inconsistent CRT is CKR_WRAPPED_KEY_INVALID', async () => {
    const kek = await native.generateKey(tk.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.SENSITIVE, false], [CKA.EXTRACTABLE, true]]);
    const [value] = await native.getAttributes(tk.session, kek, [CKA.VALUE]);
    const swapped = { ...rsa, dp: rsa.dq!, dq: rsa.dp! } as crypto.JsonWebKeyInput['key'];
    const bad = crypto.createPrivateKey({ key: swapped, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' });
    const wrapped = crypto.createCipheriv('id-aes256-wrap-pad', value!.value!, Buffer.from('a65959a6', 'hex')).update(bad);
    const tmpl: NativeTemplate = [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.RSA], [CKA.SIGN, true]];
    expect(await codeOf(native.unwrapKey(tk.session, { type: CKM.AES_KEY_WRAP_PAD }, kek, wrapped, tmpl))).toBe('CKR_WRAPPED_KEY_INVALID');
    const good = crypto.createPrivateKey({ key: rsa, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' });
    const ok = crypto.createCipheriv('id-aes256-wrap-pad', value!.value!, Buffer.from('a65959a6', 'hex')).update(good);
    await expect(native.unwrapKey(tk.session, { type: CKM.AES_KEY_WRAP_PAD }, kek, ok, tmpl)).resolves.toBeGreaterThan(0);
  });
});

describe('templates nest one level', () => {
  it('a template that holds itself is a RangeError, not a crash', async () => {
    const t: unknown[] = [[CKA.VALUE_LEN, 32]];
    t.push([CKA.WRAP_TEMPLATE, t]);
    const e = await native.generateKey(tk.session, { type: CKM.AES_KEY_GEN }, t as NativeTemplate).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RangeError);
  });

  it('30,000 levels of nesting are refused the same way', async () => {
    let t: unknown[] = [[CKA.LABEL, 'leaf']];
    for (let i = 0; i < 30000; i++) t = [[CKA.WRAP_TEMPLATE, t]];
    const e = await native.generateKey(tk.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], ...(t as NativeTemplate)]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RangeError);
  });

  it('a template encoded by hand that holds another template is CKR_ATTRIBUTE_VALUE_INVALID', async () => {
    const enc = (type: number, value: Buffer) => {
      const h = Buffer.alloc(16);
      h.writeBigUInt64LE(BigInt(type));
      h.writeBigUInt64LE(BigInt(value.length), 8);
      return Buffer.concat([h, value]);
    };
    const inner = enc(CKA.UNWRAP_TEMPLATE, enc(CKA.EXTRACTABLE, Buffer.from([1])));
    const code = await codeOf(native.generateKey(tk.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.WRAP_TEMPLATE, inner]]));
    expect(code).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
  });
});

describe('PKCS#8 written and read without OpenSSL\'s encoder and decoder', () => {
  it('a wrapped private key is byte for byte the PKCS#8 OpenSSL writes, for RSA, every curve and Ed25519', async () => {
    const kek = await native.generateKey(tk.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.SENSITIVE, false], [CKA.EXTRACTABLE, true], [CKA.WRAP, true]]);
    const [value] = await native.getAttributes(tk.session, kek, [CKA.VALUE]);
    const keys = [
      crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      ...['prime256v1', 'secp384r1', 'secp521r1', 'secp256k1'].map((namedCurve) => crypto.generateKeyPairSync('ec', { namedCurve }).privateKey),
      crypto.generateKeyPairSync('ed25519').privateKey,
    ];
    for (const key of keys) {
      const der = key.export({ format: 'der', type: 'pkcs8' });
      const kt = key.asymmetricKeyType === 'rsa' ? CKK.RSA : key.asymmetricKeyType === 'ec' ? CKK.EC : CKK.EC_EDWARDS;
      const h = await importKey(tk, [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, kt], [CKA.SEALHSM_PKCS8, der], [CKA.EXTRACTABLE, true]]);
      const wrapped = await native.wrapKey(tk.session, { type: CKM.AES_KEY_WRAP_PAD }, kek, h);
      const plain = crypto.createDecipheriv('id-aes256-wrap-pad', value!.value!, Buffer.from('a65959a6', 'hex')).update(wrapped);
      expect(plain.toString('hex'), String(key.asymmetricKeyDetails?.namedCurve ?? key.asymmetricKeyType)).toBe(der.toString('hex'));
    }
  });

  it('malformed PKCS#8 is CKR_ATTRIBUTE_VALUE_INVALID on import', async () => {
    const der = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    const cut = der.subarray(0, der.length - 5);
    const t = (d: Buffer): NativeTemplate => [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.EC], [CKA.SEALHSM_PKCS8, d]];
    expect(await codeOf(importKey(tk, t(cut)))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(importKey(tk, t(Buffer.from('300500', 'hex'))))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(importKey(tk, [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.RSA], [CKA.SEALHSM_PKCS8, der]]))).toBe('CKR_TEMPLATE_INCONSISTENT');
  });
});
