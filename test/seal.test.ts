// test/seal.test.ts
// The sealed slot and the exact CKR_* code of every refusal: sensitive reads, unextractable wraps,
// wrong key types, bad parameters, unknown handles, operations already active, template rules.

import * as crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

import { CKA, CKG, CKK, CKM, CKO, HsmIntegrityError, HsmKeyError, call, curveByName, native, secretKeyTemplate } from '../src/index.js';
import { OPEN_SECRET, codeOf, importKey, openToken, readValue } from './helpers/hsm.js';

const tk = await openToken('seal');
afterAll(() => tk.close());
const s = tk.session;
const P256 = curveByName('secp256r1').params;

const aesKey = (extra: ReadonlyArray<readonly [number, boolean | number]> = []) =>
  call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], ...extra]));
const ecPair = () => call(native.generateKeyPair(s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, P256]], [[CKA.EXTRACTABLE, true]]));
const rsaPair = () => call(native.generateKeyPair(s, { type: CKM.RSA_PKCS_KEY_PAIR_GEN }, [[CKA.MODULUS_BITS, 2048]], [[CKA.EXTRACTABLE, true]]));

async function attrs(h: number, types: number[]) {
  return call(native.getAttributes(s, h, types));
}

describe('the seal', () => {
  it('never returns a private key component', async () => {
    const [, priv] = await rsaPair();
    const got = await attrs(priv, [CKA.PRIVATE_EXPONENT, CKA.PRIME_1, CKA.PRIME_2, CKA.EXPONENT_1, CKA.EXPONENT_2, CKA.COEFFICIENT, CKA.MODULUS]);
    expect(got.map((a) => a.rv)).toEqual([0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0]);
    expect(got.slice(0, 6).every((a) => a.value === null)).toBe(true);
    const [, ecPriv] = await ecPair();
    expect((await attrs(ecPriv, [CKA.VALUE]))[0]?.rv).toBe(0x11); // CKR_ATTRIBUTE_SENSITIVE
  });

  it('never returns a sensitive secret key value', async () => {
    const k = await aesKey();
    const [v] = await attrs(k, [CKA.VALUE]);
    expect(v).toMatchObject({ rv: 0x11, value: null });
  });

  it('returns a secret value only when the key is non-sensitive and extractable', async () => {
    const unextractable = await aesKey([[CKA.SENSITIVE, false]]);
    expect((await attrs(unextractable, [CKA.VALUE]))[0]?.rv).toBe(0x11);
    const open = await aesKey([[CKA.SENSITIVE, false], [CKA.EXTRACTABLE, true]]);
    expect((await readValue(tk, open)).length).toBe(32);
  });

  it('tracks CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE and CKA_KEY_GEN_MECHANISM', async () => {
    const gen = await aesKey();
    const read = async (h: number) =>
      (await attrs(h, [CKA.LOCAL, CKA.ALWAYS_SENSITIVE, CKA.NEVER_EXTRACTABLE, CKA.SENSITIVE, CKA.EXTRACTABLE])).map((a) => a.value?.[0]);
    expect(await read(gen)).toEqual([1, 1, 1, 1, 0]);
    expect((await attrs(gen, [CKA.KEY_GEN_MECHANISM]))[0]?.value?.readBigUInt64LE()).toBe(BigInt(CKM.AES_KEY_GEN));
    const imported = await importKey(tk, secretKeyTemplate(crypto.randomBytes(32), 'aes'));
    expect(await read(imported)).toEqual([0, 0, 0, 1, 0]);
    const extractable = await aesKey([[CKA.EXTRACTABLE, true]]);
    expect(await read(extractable)).toEqual([1, 1, 0, 1, 1]);
  });

  it('refuses to wrap an unextractable key: CKR_KEY_UNEXTRACTABLE', async () => {
    const kek = await aesKey();
    const target = await aesKey();
    const err = await native.wrapKey(s, { type: CKM.AES_KEY_WRAP_PAD }, kek, target).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CKR_KEY_UNEXTRACTABLE' });
    const [, priv] = await call(native.generateKeyPair(s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, P256]], []));
    expect(await codeOf(call(native.wrapKey(s, { type: CKM.AES_KEY_WRAP_PAD }, kek, priv)))).toBe('CKR_KEY_UNEXTRACTABLE');
  });

  it('the TS error for an unextractable wrap is an HsmKeyError with code and rv', async () => {
    const kek = await aesKey();
    const target = await aesKey();
    const e = await call(native.wrapKey(s, { type: CKM.AES_KEY_WRAP }, kek, target)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HsmKeyError);
    expect(e).toMatchObject({ code: 'CKR_KEY_UNEXTRACTABLE', rv: 0x6a });
  });
});

describe('wrap and unwrap round trips', () => {
  it('AES key wrap (KW, KWP), AES-GCM and RSA-OAEP / RSA-AES wrap secret and private keys', async () => {
    const kek = await aesKey();
    const [rsaPub, rsaPriv] = await rsaPair();
    const secret = await aesKey([[CKA.EXTRACTABLE, true]]);
    const [ecPub, ecPriv] = await ecPair();
    const msg = Buffer.from('wrapped keys still sign');
    const sig = await call(native.sign(s, { type: CKM.ECDSA_SHA256 }, ecPriv, msg));
    const oaep = { hashAlg: CKM.SHA256, mgf: CKG.MGF1_SHA256 };
    const cases: Array<[object, number, number]> = [
      [{ type: CKM.AES_KEY_WRAP }, kek, kek],
      [{ type: CKM.AES_KEY_WRAP_PAD }, kek, kek],
      [{ type: CKM.AES_GCM, iv: crypto.randomBytes(12), tagBits: 128 }, kek, kek],
      [{ type: CKM.RSA_PKCS_OAEP, ...oaep }, rsaPub, rsaPriv],
      [{ type: CKM.RSA_AES_KEY_WRAP, aesKeyBits: 256, ...oaep }, rsaPub, rsaPriv],
    ];
    for (const [mech, wrapping, unwrapping] of cases) {
      const m = mech as { type: number };
      const blob = await call(native.wrapKey(s, m, wrapping, secret));
      const back = await call(native.unwrapKey(s, m, unwrapping, blob, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES]]));
      const [local, kcv] = await attrs(back, [CKA.LOCAL, CKA.CHECK_VALUE]);
      expect(local?.value?.[0]).toBe(0);
      expect(kcv?.value?.equals((await attrs(secret, [CKA.CHECK_VALUE]))[0]!.value!)).toBe(true);
      if (m.type === CKM.RSA_PKCS_OAEP) continue; // a PKCS#8 EC key does not fit one OAEP block
      if (m.type === CKM.AES_KEY_WRAP) {
        // RFC 3394 needs a multiple of 8 bytes; a PKCS#8 P-256 key is not, so the padded variant is for private keys.
        expect(await codeOf(call(native.wrapKey(s, m, wrapping, ecPriv)))).toBe('CKR_KEY_SIZE_RANGE');
        continue;
      }
      const wrappedPriv = await call(native.wrapKey(s, m, wrapping, ecPriv));
      const priv2 = await call(native.unwrapKey(s, m, unwrapping, wrappedPriv, [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.EC], [CKA.SIGN, true]]));
      const sig2 = await call(native.sign(s, { type: CKM.ECDSA_SHA256 }, priv2, msg));
      await expect(call(native.verify(s, { type: CKM.ECDSA_SHA256 }, ecPub, msg, sig2))).resolves.toBe(true);
      expect(sig.length).toBe(sig2.length);
    }
  });

  it('a tampered wrapped key is CKR_WRAPPED_KEY_INVALID (an HsmIntegrityError)', async () => {
    const kek = await aesKey();
    const secret = await aesKey([[CKA.EXTRACTABLE, true]]);
    const blob = await call(native.wrapKey(s, { type: CKM.AES_KEY_WRAP_PAD }, kek, secret));
    blob[5]! ^= 1;
    const e = await call(native.unwrapKey(s, { type: CKM.AES_KEY_WRAP_PAD }, kek, blob, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES]])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HsmIntegrityError);
    expect(e).toMatchObject({ code: 'CKR_WRAPPED_KEY_INVALID' });
  });
});

describe('exact codes for refusals', () => {
  it('wrong key type for a mechanism: CKR_KEY_TYPE_INCONSISTENT', async () => {
    const [pub, priv] = await ecPair();
    const aes = await aesKey();
    expect(await codeOf(call(native.sign(s, { type: CKM.SHA256_RSA_PKCS }, priv, Buffer.from('x'))))).toBe('CKR_KEY_TYPE_INCONSISTENT');
    expect(await codeOf(call(native.sign(s, { type: CKM.ECDSA_SHA256 }, pub, Buffer.from('x'))))).toBe('CKR_KEY_TYPE_INCONSISTENT');
    expect(await codeOf(call(native.sign(s, { type: CKM.SHA256_HMAC }, aes, Buffer.from('x'))))).toBe('CKR_KEY_TYPE_INCONSISTENT');
  });

  it('usage attribute false: CKR_KEY_FUNCTION_NOT_PERMITTED', async () => {
    const k = await aesKey([[CKA.ENCRYPT, false]]);
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_ECB }, k, Buffer.alloc(16))))).toBe('CKR_KEY_FUNCTION_NOT_PERMITTED');
  });

  it('bad mechanism parameters: CKR_MECHANISM_PARAM_INVALID; unknown mechanism: CKR_MECHANISM_INVALID', async () => {
    const k = await aesKey();
    const [, rsa] = await rsaPair();
    const data = Buffer.alloc(16);
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_CBC, iv: Buffer.alloc(8) }, k, data)))).toBe('CKR_MECHANISM_PARAM_INVALID');
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_CBC }, k, data)))).toBe('CKR_MECHANISM_PARAM_INVALID');
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_GCM, iv: Buffer.alloc(12), tagBits: 100 }, k, data)))).toBe('CKR_MECHANISM_PARAM_INVALID');
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_GCM, iv: Buffer.alloc(0) }, k, data)))).toBe('CKR_MECHANISM_PARAM_INVALID');
    expect(await codeOf(call(native.sign(s, { type: CKM.SHA256_RSA_PKCS_PSS, hashAlg: CKM.SHA384, mgf: CKG.MGF1_SHA256, saltLength: 32 }, rsa, data)))).toBe('CKR_MECHANISM_PARAM_INVALID');
    expect(await codeOf(call(native.sign(s, { type: CKM.SHA256_RSA_PKCS_PSS, hashAlg: CKM.SHA256, mgf: 99, saltLength: 32 }, rsa, data)))).toBe('CKR_MECHANISM_PARAM_INVALID');
    expect(await codeOf(call(native.sign(s, { type: CKM.SHA256_RSA_PKCS_PSS, hashAlg: CKM.SHA256, mgf: CKG.MGF1_SHA256, saltLength: 300 }, rsa, data)))).toBe('CKR_MECHANISM_PARAM_INVALID');
    expect(await codeOf(call(native.decrypt(s, { type: CKM.RSA_PKCS_OAEP, hashAlg: 0x999, mgf: CKG.MGF1_SHA1 }, rsa, Buffer.alloc(256))))).toBe('CKR_MECHANISM_PARAM_INVALID');
    expect(await codeOf(call(native.encrypt(s, { type: 0x7777 }, k, data)))).toBe('CKR_MECHANISM_INVALID');
    expect(await codeOf(call(native.encrypt(s, { type: CKM.SHA256_HMAC }, k, data)))).toBe('CKR_MECHANISM_INVALID');
  });

  it('ECDH with a point off the curve: CKR_MECHANISM_PARAM_INVALID', async () => {
    const [pub, priv] = await call(native.generateKeyPair(s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, P256]], [[CKA.DERIVE, true]]));
    const [pt] = await attrs(pub, [CKA.EC_POINT]);
    const point = Buffer.from(pt!.value!.subarray(2));
    point[64]! ^= 1; // y no longer matches x
    const tmpl = [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.GENERIC_SECRET]] as const;
    expect(await codeOf(call(native.deriveKey(s, { type: CKM.ECDH1_DERIVE, kdf: 1, publicData: point }, priv, tmpl)))).toBe('CKR_MECHANISM_PARAM_INVALID');
  });

  it('unknown handles: CKR_KEY_HANDLE_INVALID, CKR_OBJECT_HANDLE_INVALID, CKR_SESSION_HANDLE_INVALID', async () => {
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_ECB }, 999999, Buffer.alloc(16))))).toBe('CKR_KEY_HANDLE_INVALID');
    expect(await codeOf(call(native.getAttributes(s, 999999, [CKA.CLASS])))).toBe('CKR_OBJECT_HANDLE_INVALID');
    expect(await codeOf(call(native.destroyObject(s, 999999)))).toBe('CKR_OBJECT_HANDLE_INVALID');
    expect(await codeOf(call(native.generateRandom(987654, 8)))).toBe('CKR_SESSION_HANDLE_INVALID');
    const k = await aesKey();
    const kek = await aesKey();
    expect(await codeOf(call(native.wrapKey(s, { type: CKM.AES_KEY_WRAP }, 999999, k)))).toBe('CKR_WRAPPING_KEY_HANDLE_INVALID');
    expect(await codeOf(call(native.unwrapKey(s, { type: CKM.AES_KEY_WRAP }, 999999, Buffer.alloc(24), [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES]])))).toBe('CKR_UNWRAPPING_KEY_HANDLE_INVALID');
    expect(await codeOf(call(native.wrapKey(s, { type: CKM.AES_KEY_WRAP }, kek, 999999)))).toBe('CKR_KEY_HANDLE_INVALID');
  });

  it('Update on a single-part mechanism ends the operation with CKR_MECHANISM_INVALID', async () => {
    const k = await aesKey();
    await call(native.encryptInit(s, { type: CKM.AES_KEY_WRAP_PAD }, k));
    expect(await codeOf(call(native.encryptUpdate(s, Buffer.alloc(8))))).toBe('CKR_MECHANISM_INVALID');
    expect(await codeOf(call(native.encryptFinal(s)))).toBe('CKR_OPERATION_NOT_INITIALIZED');
  });

  it('operation already active: CKR_OPERATION_ACTIVE; none active: CKR_OPERATION_NOT_INITIALIZED', async () => {
    const t2 = native.openSession(tk.slot, true);
    const k = await aesKey();
    await call(native.encryptInit(t2, { type: CKM.AES_ECB }, k));
    expect(await codeOf(call(native.encryptInit(t2, { type: CKM.AES_ECB }, k)))).toBe('CKR_OPERATION_ACTIVE');
    expect(await codeOf(call(native.encrypt(t2, { type: CKM.AES_ECB }, k, Buffer.alloc(16))))).toBe('CKR_OPERATION_ACTIVE');
    await call(native.encryptFinal(t2));
    expect(await codeOf(call(native.encryptFinal(t2)))).toBe('CKR_OPERATION_NOT_INITIALIZED');
    expect(await codeOf(call(native.signUpdate(t2, Buffer.alloc(1))))).toBe('CKR_OPERATION_NOT_INITIALIZED');
    await call(native.digestInit(t2, { type: CKM.SHA256 }));
    expect(await codeOf(call(native.digestInit(t2, { type: CKM.SHA256 })))).toBe('CKR_OPERATION_ACTIVE');
    native.closeSession(t2);
  });

  it('data length rules: CKR_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_INVALID', async () => {
    const k = await aesKey();
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_ECB }, k, Buffer.alloc(15))))).toBe('CKR_DATA_LEN_RANGE');
    expect(await codeOf(call(native.decrypt(s, { type: CKM.AES_CBC_PAD, iv: Buffer.alloc(16) }, k, Buffer.alloc(15))))).toBe('CKR_ENCRYPTED_DATA_LEN_RANGE');
    const mech = { type: CKM.AES_GCM, iv: Buffer.alloc(12) };
    const ct = await call(native.encrypt(s, mech, k, Buffer.from('secret')));
    ct[0]! ^= 1;
    expect(await codeOf(call(native.decrypt(s, mech, k, ct)))).toBe('CKR_ENCRYPTED_DATA_INVALID');
    const [, rsa] = await rsaPair();
    expect(await codeOf(call(native.sign(s, { type: CKM.RSA_PKCS }, rsa, Buffer.alloc(250))))).toBe('CKR_DATA_LEN_RANGE');
    const [rsaPub] = await rsaPair();
    expect(await codeOf(call(native.encrypt(s, { type: CKM.RSA_PKCS_OAEP, hashAlg: CKM.SHA256, mgf: CKG.MGF1_SHA256 }, rsaPub, Buffer.alloc(200))))).toBe('CKR_DATA_LEN_RANGE');
  });

  it('key generation ranges: AES 16/24/32, generic 1..800, RSA 1024..4096 step 256 (pkcs11 profile) with e ≥ 65537, named curves', async () => {
    for (const len of [16, 24, 32]) await expect(call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, len]]))).resolves.toBeGreaterThan(0);
    expect(await codeOf(call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 20]])))).toBe('CKR_KEY_SIZE_RANGE');
    expect(await codeOf(call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [])))).toBe('CKR_TEMPLATE_INCOMPLETE');
    for (const len of [1, 800]) await expect(call(native.generateKey(s, { type: CKM.GENERIC_SECRET_KEY_GEN }, [[CKA.VALUE_LEN, len]]))).resolves.toBeGreaterThan(0);
    expect(await codeOf(call(native.generateKey(s, { type: CKM.GENERIC_SECRET_KEY_GEN }, [[CKA.VALUE_LEN, 801]])))).toBe('CKR_KEY_SIZE_RANGE');
    expect(await codeOf(call(native.generateKeyPair(s, { type: CKM.RSA_PKCS_KEY_PAIR_GEN }, [[CKA.MODULUS_BITS, 768]], [])))).toBe('CKR_KEY_SIZE_RANGE');
    expect(await codeOf(call(native.generateKeyPair(s, { type: CKM.RSA_PKCS_KEY_PAIR_GEN }, [[CKA.MODULUS_BITS, 2100]], [])))).toBe('CKR_KEY_SIZE_RANGE');
    expect(await codeOf(call(native.generateKeyPair(s, { type: CKM.RSA_PKCS_KEY_PAIR_GEN }, [[CKA.MODULUS_BITS, 2048], [CKA.PUBLIC_EXPONENT, Buffer.from([3])]], [])))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(call(native.generateKeyPair(s, { type: CKM.RSA_PKCS_KEY_PAIR_GEN }, [[CKA.MODULUS_BITS, 2304], [CKA.PUBLIC_EXPONENT, Buffer.from([1, 0, 0, 1])]], [])))).toBeUndefined();
    expect(await codeOf(call(native.generateKeyPair(s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, Buffer.from('06082a8648ce3d030108', 'hex')]], [])))).toBe('CKR_CURVE_NOT_SUPPORTED');
    expect(await codeOf(call(native.generateKeyPair(s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, Buffer.from('3000', 'hex')]], [])))).toBe('CKR_DOMAIN_PARAMS_INVALID');
    expect(await codeOf(call(native.generateKeyPair(s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, curveByName('ed25519').params]], [])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    for (const c of ['secp224r1', 'secp256r1', 'secp384r1', 'secp521r1', 'secp256k1'] as const) {
      await expect(call(native.generateKeyPair(s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, curveByName(c).params]], []))).resolves.toHaveLength(2);
    }
  });

  it('template rules: CKR_TEMPLATE_INCOMPLETE / _INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID / _READ_ONLY / _TYPE_INVALID', async () => {
    expect(await codeOf(call(native.createObject(s, [[CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, Buffer.alloc(32)]])))).toBe('CKR_TEMPLATE_INCOMPLETE');
    expect(await codeOf(call(native.createObject(s, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES]])))).toBe('CKR_TEMPLATE_INCOMPLETE');
    expect(await codeOf(call(native.createObject(s, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.RSA], [CKA.VALUE, Buffer.alloc(32)]])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    expect(await codeOf(call(native.createObject(s, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, Buffer.alloc(20)]])))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(call(native.createObject(s, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, Buffer.alloc(32)], [CKA.LOCAL, true]])))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    expect(await codeOf(call(native.createObject(s, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, Buffer.alloc(32)], [CKA.MODULUS, Buffer.alloc(8)]])))).toBe('CKR_ATTRIBUTE_TYPE_INVALID');
    expect(await codeOf(call(native.createObject(s, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, Buffer.alloc(32)], [CKA.SENSITIVE, Buffer.from([2])]])))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(call(native.createObject(s, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.CLASS, CKO.PUBLIC_KEY]])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    expect(await codeOf(call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.VALUE, Buffer.alloc(32)]])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    expect(await codeOf(call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.KEY_TYPE, CKK.GENERIC_SECRET]])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    expect(await codeOf(call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [0x7fff0000, true]])))).toBe('CKR_ATTRIBUTE_TYPE_INVALID');
  });

  it('an unknown mechanism parameter is a TypeError naming it (catches typos)', async () => {
    const k = await aesKey();
    await expect(native.encrypt(s, { type: CKM.AES_GCM, iv: Buffer.alloc(12), tagbits: 96 } as never, k, Buffer.alloc(1))).rejects.toThrow(/unknown parameter 'tagbits'/);
  });

  it('bad argument types reject with TypeError / RangeError, never crash', async () => {
    const bad = native as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    await expect(bad.sign!('x', {}, 1, Buffer.alloc(1))).rejects.toBeInstanceOf(TypeError);
    await expect(bad.sign!(s, { type: CKM.ECDSA }, 1, 'not bytes')).rejects.toBeInstanceOf(TypeError);
    await expect(bad.encrypt!(s, null, 1, Buffer.alloc(1))).rejects.toBeInstanceOf(TypeError);
    await expect(bad.generateKey!(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, -1]])).rejects.toBeInstanceOf(RangeError);
    await expect(bad.generateKey!(s, { type: CKM.AES_KEY_GEN }, [[1, 2, 3]])).rejects.toBeInstanceOf(TypeError);
    await expect(bad.encrypt!(s, { type: CKM.AES_GCM, iv: 12 }, 1, Buffer.alloc(1))).rejects.toBeInstanceOf(TypeError);
    await expect(bad.generateRandom!(s, 2 ** 21)).rejects.toBeInstanceOf(RangeError);
    expect(() => native.openSession('1' as unknown as number, true)).toThrow(TypeError);
    expect(() => native.createToken('nope', 'x')).toThrow(/unknown profile 'nope'/);
  });

  it('session objects die with their session; token objects stay', async () => {
    const t2 = native.openSession(tk.slot, true);
    const sessionKey = await call(native.generateKey(t2, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32]]));
    const tokenKey = await call(native.generateKey(t2, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.TOKEN, true]]));
    native.closeSession(t2);
    expect(await codeOf(call(native.getAttributes(s, sessionKey, [CKA.CLASS])))).toBe('CKR_OBJECT_HANDLE_INVALID');
    expect(await codeOf(call(native.getAttributes(s, tokenKey, [CKA.CLASS])))).toBeUndefined();
    const ro = native.openSession(tk.slot, false);
    expect(await codeOf(call(native.generateKey(ro, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.TOKEN, true]])))).toBe('CKR_SESSION_READ_ONLY');
    native.closeSession(ro);
  });

  it('finds objects by attributes', async () => {
    const id = crypto.randomBytes(8);
    const k = await call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 16], [CKA.LABEL, 'find-me'], [CKA.ID, id]]));
    expect(await call(native.findObjects(s, [[CKA.LABEL, 'find-me']]))).toEqual([k]);
    expect(await call(native.findObjects(s, [[CKA.ID, id], [CKA.CLASS, CKO.SECRET_KEY]]))).toEqual([k]);
    expect(await call(native.findObjects(s, [[CKA.LABEL, 'find-me'], [CKA.CLASS, CKO.PRIVATE_KEY]]))).toEqual([]);
  });

  it('CKA_ALLOWED_MECHANISMS restricts a key', async () => {
    const allowed = Buffer.alloc(8);
    allowed.writeBigUInt64LE(BigInt(CKM.AES_GCM));
    const k = await call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.ALLOWED_MECHANISMS, allowed]]));
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_GCM, iv: Buffer.alloc(12) }, k, Buffer.alloc(4))))).toBeUndefined();
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_ECB }, k, Buffer.alloc(16))))).toBe('CKR_MECHANISM_INVALID');
  });

  it('HKDF derives a key usable by name, and OPEN_SECRET controls readability', async () => {
    const ikm = await importKey(tk, secretKeyTemplate(Buffer.alloc(32, 7), 'generic'), [[CKA.DERIVE, true]]);
    const m = { type: CKM.HKDF_DERIVE, extract: true, expand: true, hashAlg: CKM.SHA256, saltType: 1, info: Buffer.from('ctx') };
    const okm = await call(native.deriveKey(s, m, ikm, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE_LEN, 32], ...OPEN_SECRET]));
    const expected = Buffer.from(crypto.hkdfSync('sha256', Buffer.alloc(32, 7), Buffer.alloc(0), Buffer.from('ctx'), 32));
    expect((await readValue(tk, okm)).equals(expected)).toBe(true);
  });
});
