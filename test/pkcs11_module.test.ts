// test/pkcs11_module.test.ts
// sealhsm-pkcs11.so driven by pkcs11js (a client we did not write): the Wycheproof suite through
// the C ABI, the CloudHSM profile's behaviour through the module, and one token shared by the
// module and the Node client at the same time.

import * as crypto from 'node:crypto';

import { afterAll, describe, expect, it } from 'vitest';

import {
  CKA, CKK, CKM, CKO, SealHsm, call, cipherMechanism, curveByName, native, privateKeyTemplate, publicKeyTemplate, secretKeyTemplate,
  signMechanism, type NativeMechanism, type NativeTemplate,
} from '../src/index.js';
import { codeOf, importKey, openCloudToken, openToken } from './helpers/hsm.js';
import { attrs, ckr, configure, openModule, pkcs11js } from './helpers/module.js';
import { wycheproofSuite, type Door } from './helpers/wycheproof_suite.js';

const { base } = configure([
  'slot memory profile=pkcs11 label=wycheproof',
  'slot memory profile=cloudhsm label=cloudhsm',
  'slot $BASE/shared profile=cloudhsm label=shared create=true',
]);
const p11 = openModule();
afterAll(() => p11.C_Finalize());
const [wycheproofSlot, cloudSlot, sharedSlot] = p11.C_GetSlotList(true) as [Buffer, Buffer, Buffer];
const RW = pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION;

/** NativeMechanism (our typed form) → pkcs11js's mechanism object. */
function mech(given: NativeMechanism | number): pkcs11js.Mechanism {
  const m = typeof given === 'number' ? { type: given } : given;
  if (m.type === CKM.AES_GCM) return { mechanism: m.type, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv: Buffer.from(m.iv!), aad: Buffer.from(m.aad ?? []), tagBits: m.tagBits ?? 128 } as pkcs11js.IParams };
  if (m.type === CKM.RSA_PKCS_OAEP) return { mechanism: m.type, parameter: { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: m.hashAlg!, mgf: m.mgf!, source: 1, sourceData: m.label?.length ? Buffer.from(m.label) : undefined } as pkcs11js.IParams };
  if (m.saltLength !== undefined) return { mechanism: m.type, parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: m.hashAlg!, mgf: m.mgf!, saltLen: m.saltLength } as pkcs11js.IParams };
  if (m.macLength !== undefined) {
    const ulong = Buffer.alloc(8);
    ulong.writeBigUInt64LE(BigInt(m.macLength));
    return { mechanism: m.type, parameter: ulong };
  }
  if (m.iv !== undefined) return { mechanism: m.type, parameter: Buffer.from(m.iv) };
  return { mechanism: m.type };
}

const sigBuffer = () => Buffer.alloc(1024);

// ---- the Wycheproof door through the module

function moduleDoor(): Door<Buffer> {
  const s = p11.C_OpenSession(wycheproofSlot, RW);
  p11.C_InitToken(wycheproofSlot, 'so-pin-0000', 'wycheproof');
  const so = p11.C_OpenSession(wycheproofSlot, RW);
  p11.C_Login(so, pkcs11js.CKU_SO, 'so-pin-0000');
  p11.C_InitPIN(so, 'user-pin-0');
  p11.C_Logout(so);
  p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0');
  const create = (t: ReadonlyArray<readonly [number, unknown]>) => p11.C_CreateObject(s, attrs(t));
  const all = [[CKA.ENCRYPT, true], [CKA.DECRYPT, true], [CKA.SIGN, true], [CKA.VERIFY, true], [CKA.DERIVE, true]] as const;
  const run = <T>(f: () => T): Promise<T> => {
    try {
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(Object.assign(new Error(String(e)), { code: ckr(e) }));
    }
  };
  return {
    aes: (v) => run(() => create([...secretKeyTemplate(v, 'aes'), ...all.slice(0, 4)])),
    generic: (v) => run(() => create([...secretKeyTemplate(v, 'generic'), [CKA.SIGN, true], [CKA.VERIFY, true], [CKA.DERIVE, true]])),
    publicSpki: (der) => run(() => create([...publicKeyTemplate({ format: 'der', type: 'spki', data: der }), [CKA.VERIFY, true]])),
    privatePkcs8: (der) => run(() => create([...privateKeyTemplate({ format: 'der', type: 'pkcs8', data: der }), [CKA.DECRYPT, true]])),
    ecPrivate: (curve, d) => run(() => create([[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.EC], [CKA.EC_PARAMS, curveByName(curve).params], [CKA.VALUE, d], [CKA.DERIVE, true]])),
    encrypt: (k, m, data) => run(() => {
      p11.C_EncryptInit(s, mech(cipherMechanism(m)), k);
      return Buffer.from(p11.C_Encrypt(s, Buffer.from(data), Buffer.alloc(data.length + 64)));
    }),
    decrypt: (k, m, data) => run(() => {
      p11.C_DecryptInit(s, mech(cipherMechanism(m)), k);
      return Buffer.from(p11.C_Decrypt(s, Buffer.from(data), Buffer.alloc(data.length + 64)));
    }),
    sign: (k, m, data) => run(() => {
      p11.C_SignInit(s, mech(signMechanism(m)), k);
      return Buffer.from(p11.C_Sign(s, Buffer.from(data), sigBuffer()));
    }),
    verify: (k, m, data, sig) => run(() => {
      p11.C_VerifyInit(s, mech(signMechanism(m)), k);
      return p11.C_Verify(s, Buffer.from(data), Buffer.from(sig));
    }).catch((e: { code?: string }) => {
      if (e.code === 'CKR_SIGNATURE_INVALID' || e.code === 'CKR_SIGNATURE_LEN_RANGE') return false;
      throw e;
    }),
    ecdh: (k, point) => run(() => {
      const key = p11.C_DeriveKey(s, { mechanism: CKM.ECDH1_DERIVE, parameter: { type: pkcs11js.CK_PARAMS_EC_DH, kdf: 1, publicData: Buffer.from(point) } as pkcs11js.IParams }, k,
        attrs([[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.GENERIC_SECRET], [CKA.SENSITIVE, false], [CKA.EXTRACTABLE, true]]));
      return p11.C_GetAttributeValue(s, key, [{ type: CKA.VALUE }])[0]!.value as Buffer;
    }),
    hkdf: () => Promise.reject(new Error('not expressible through pkcs11js')),
    cannotExpress: {
      'hkdf_sha256_test.json': 'pkcs11js has no CK_HKDF_PARAMS, so CKM_HKDF_DERIVE cannot be called through it; test/c/abi_test.c derives HKDF through the C ABI',
    },
  };
}

wycheproofSuite('PKCS#11 module (pkcs11js)', async () => moduleDoor());

// ---- the CloudHSM profile through the module

describe('a cloudhsm-profile token through the module', () => {
  it('logs in with user:password once for every session; a second login is CKR_USER_ALREADY_LOGGED_IN', async () => {
    const dir = `${base}/shared`;
    const hsm = await SealHsm.open({ dir });
    await hsm.activate('admin-password');
    await hsm.login('admin', 'admin-password');
    await hsm.users.create('cu1', 'cu1-password');
    hsm.close();
    const a = p11.C_OpenSession(sharedSlot, RW);
    const b = p11.C_OpenSession(sharedSlot, RW);
    expect(ckr(catching(() => p11.C_Login(a, pkcs11js.CKU_USER, 'cu1:wrong-password')))).toBe('CKR_PIN_INCORRECT');
    p11.C_Login(a, pkcs11js.CKU_USER, 'cu1:cu1-password');
    expect(ckr(catching(() => p11.C_Login(b, pkcs11js.CKU_USER, 'cu1:cu1-password')))).toBe('CKR_USER_ALREADY_LOGGED_IN');
    expect(p11.C_GetSessionInfo(b).state).toBe(3); // CKS_RW_USER_FUNCTIONS
    p11.C_Logout(b);
    expect(p11.C_GetSessionInfo(a).state).toBe(2); // CKS_RW_PUBLIC_SESSION: logout ended it for every session
    p11.C_Login(b, pkcs11js.CKU_USER, 'cu1:cu1-password');
  });

  it('writes the HSM-generated GCM IV into pIv; CKM_CLOUDHSM_AES_GCM (0x80001087) prepends it; GCM Update is CKR_MECHANISM_INVALID', () => {
    const s = p11.C_OpenSession(sharedSlot, RW);
    const key = p11.C_GenerateKey(s, { mechanism: CKM.AES_KEY_GEN }, attrs([[CKA.VALUE_LEN, 32], [CKA.ENCRYPT, true], [CKA.DECRYPT, true]]));
    const iv = Buffer.alloc(12);
    p11.C_EncryptInit(s, { mechanism: CKM.AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, tagBits: 128 } as pkcs11js.IParams }, key);
    expect(iv.equals(Buffer.alloc(12))).toBe(false);
    const ct = Buffer.from(p11.C_Encrypt(s, Buffer.from('cloudhsm'), Buffer.alloc(64)));
    p11.C_DecryptInit(s, { mechanism: CKM.AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, tagBits: 128 } as pkcs11js.IParams }, key);
    expect(Buffer.from(p11.C_Decrypt(s, ct, Buffer.alloc(64))).toString()).toBe('cloudhsm');
    p11.C_EncryptInit(s, { mechanism: 0x80001087 }, key);
    const vendor = Buffer.from(p11.C_Encrypt(s, Buffer.from('vendor'), Buffer.alloc(64)));
    expect(vendor.length).toBe(12 + 6 + 16);
    p11.C_DecryptInit(s, { mechanism: 0x80001087 }, key);
    expect(Buffer.from(p11.C_Decrypt(s, vendor, Buffer.alloc(64))).toString()).toBe('vendor');
    p11.C_EncryptInit(s, { mechanism: CKM.AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, tagBits: 128 } as pkcs11js.IParams }, key);
    expect(ckr(catching(() => p11.C_EncryptUpdate(s, Buffer.from('x'), Buffer.alloc(64))))).toBe('CKR_MECHANISM_INVALID');
  });

  it('offers the vendor wraps by number and refuses the standard ones; no C_SetAttributeValue on keys', () => {
    const s = p11.C_OpenSession(sharedSlot, RW);
    const kek = p11.C_GenerateKey(s, { mechanism: CKM.AES_KEY_GEN }, attrs([[CKA.VALUE_LEN, 32], [CKA.WRAP, true], [CKA.UNWRAP, true]]));
    const target = p11.C_GenerateKey(s, { mechanism: CKM.AES_KEY_GEN }, attrs([[CKA.VALUE_LEN, 16]]));
    const wrapped = p11.C_WrapKey(s, { mechanism: 0x8000210a }, kek, target, Buffer.alloc(64));
    const back = p11.C_UnwrapKey(s, { mechanism: 0x8000210a }, kek, Buffer.from(wrapped), attrs([[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES]]));
    expect(p11.C_GetAttributeValue(s, back, [{ type: CKA.CHECK_VALUE }])[0]!.value).toEqual(p11.C_GetAttributeValue(s, target, [{ type: CKA.CHECK_VALUE }])[0]!.value);
    expect(ckr(catching(() => p11.C_WrapKey(s, { mechanism: CKM.AES_KEY_WRAP_PAD }, kek, target, Buffer.alloc(64))))).toBe('CKR_MECHANISM_INVALID');
    expect(p11.C_GetMechanismList(sharedSlot)).toContain(0x80001087);
    expect(p11.C_GetMechanismList(sharedSlot)).not.toContain(CKM.AES_KEY_WRAP);
    expect(ckr(catching(() => p11.C_SetAttributeValue(s, target, attrs([[CKA.LABEL, 'x']]))))).toBe('CKR_FUNCTION_NOT_SUPPORTED');
    expect(ckr(catching(() => p11.C_InitToken(sharedSlot, 'pin', 'x')))).toBe('CKR_FUNCTION_NOT_SUPPORTED');
  });
});

describe('a pkcs11-profile token through the module: the standard extras', () => {
  it('C_SetAttributeValue, C_CopyObject, C_GetObjectSize, C_SeedRandom, C_SetPIN and read-only sessions', () => {
    const s = p11.C_OpenSession(wycheproofSlot, RW); // the wycheproof slot's normal user is logged in
    const key = p11.C_GenerateKey(s, { mechanism: CKM.AES_KEY_GEN }, attrs([[CKA.VALUE_LEN, 16], [CKA.LABEL, 'before'], [CKA.EXTRACTABLE, true]]));
    p11.C_SetAttributeValue(s, key, attrs([[CKA.LABEL, 'after']]));
    expect(p11.C_GetAttributeValue(s, key, [{ type: CKA.LABEL }])[0]!.value!.toString()).toBe('after');
    expect(ckr(catching(() => p11.C_SetAttributeValue(s, key, attrs([[CKA.SENSITIVE, false]]))))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    const copy = p11.C_CopyObject(s, key, attrs([[CKA.LABEL, 'copy'], [CKA.EXTRACTABLE, false]]));
    expect(p11.C_GetAttributeValue(s, copy, [{ type: CKA.LABEL }, { type: CKA.CHECK_VALUE }]).map((a) => a.value!.toString('hex')))
      .toEqual([Buffer.from('copy').toString('hex'), p11.C_GetAttributeValue(s, key, [{ type: CKA.CHECK_VALUE }])[0]!.value!.toString('hex')]);
    expect(ckr(catching(() => p11.C_CopyObject(s, copy, attrs([[CKA.EXTRACTABLE, true]]))))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    expect(typeof p11.C_GetObjectSize(s, key)).toBe('number');
    p11.C_SeedRandom(s, Buffer.from('extra entropy, mixed in'));
    expect(p11.C_GenerateRandom(s, Buffer.alloc(16)).length).toBe(16);
    p11.C_SetPIN(s, 'user-pin-0', 'user-pin-1');
    p11.C_Logout(s);
    expect(ckr(catching(() => p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0')))).toBe('CKR_PIN_INCORRECT');
    p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-1');
    const ro = p11.C_OpenSession(wycheproofSlot, pkcs11js.CKF_SERIAL_SESSION);
    expect(ckr(catching(() => p11.C_GenerateKey(ro, { mechanism: CKM.AES_KEY_GEN }, attrs([[CKA.VALUE_LEN, 16], [CKA.TOKEN, true]]))))).toBe('CKR_SESSION_READ_ONLY');
    p11.C_CloseSession(ro);
  });
});

describe('one token, two doors', () => {
  it('a key made through the module is used by the Node client on the same directory, and the reverse, at the same time', async () => {
    const s = p11.C_OpenSession(sharedSlot, RW);
    const keys = p11.C_GenerateKeyPair(s, { mechanism: CKM.EC_KEY_PAIR_GEN },
      attrs([[CKA.EC_PARAMS, curveByName('secp256r1').params], [CKA.TOKEN, true], [CKA.VERIFY, true], [CKA.LABEL, 'from-module']]),
      attrs([[CKA.TOKEN, true], [CKA.SIGN, true], [CKA.LABEL, 'from-module']]));
    const hsm = await SealHsm.open({ dir: `${base}/shared` });
    await hsm.login('cu1', 'cu1-password');
    const [priv] = await hsm.keys.find({ label: 'from-module', class: 'private-key' });
    const data = Buffer.from('two doors');
    const sig = await priv!.sign(data);
    p11.C_VerifyInit(s, { mechanism: CKM.ECDSA_SHA256 }, keys.publicKey);
    expect(p11.C_Verify(s, data, sig)).toBe(true);
    const mine = await hsm.keys.generateEc({ curve: 'secp256r1', label: 'from-client', token: true });
    p11.C_FindObjectsInit(s, attrs([[CKA.LABEL, 'from-client'], [CKA.CLASS, CKO.PRIVATE_KEY]]));
    const [found] = p11.C_FindObjects(s, 10);
    p11.C_FindObjectsFinal(s);
    p11.C_SignInit(s, { mechanism: CKM.ECDSA_SHA256 }, found!);
    const theirs = Buffer.from(p11.C_Sign(s, data, Buffer.alloc(64)));
    expect(await mine.publicKey.verify(data, theirs)).toBe(true);
    hsm.close();
  });
});

describe('wrapping with ECB, CBC and CTR, as the standard\'s mechanism table has it', () => {
  it('C_GetMechanismInfo says so in the pkcs11 profile, and the CloudHSM profile keeps to its own list', () => {
    const WRAPS = pkcs11js.CKF_WRAP | pkcs11js.CKF_UNWRAP;
    for (const m of [CKM.AES_ECB, CKM.AES_CBC, CKM.AES_CBC_PAD, CKM.AES_CTR, CKM.DES3_ECB, CKM.DES3_CBC]) {
      expect([m, p11.C_GetMechanismInfo(wycheproofSlot, m).flags & WRAPS]).toEqual([m, WRAPS]);
    }
    for (const m of [CKM.AES_ECB, CKM.AES_CBC, CKM.DES3_ECB, CKM.DES3_CBC]) expect([m, p11.C_GetMechanismInfo(cloudSlot, m).flags & WRAPS]).toEqual([m, 0]);
    for (const m of [CKM.AES_CBC_PAD, CKM.AES_CTR]) expect([m, p11.C_GetMechanismInfo(cloudSlot, m).flags & WRAPS]).toEqual([m, WRAPS]); // Web Crypto's wrapKey
  });

  it('AES-ECB and DES3-ECB wrap a key of whole blocks byte for byte as node encrypts it, and unwrap it back; other lengths are CKR_KEY_SIZE_RANGE', async () => {
    const tk = await openToken('ecb-wrap');
    try {
      const kekValue = crypto.randomBytes(32), payload = crypto.randomBytes(32), des3Value = crypto.randomBytes(24);
      const usable: NativeTemplate = [[CKA.WRAP, true], [CKA.UNWRAP, true], [CKA.ENCRYPT, true], [CKA.DECRYPT, true]];
      const kek = await importKey(tk, secretKeyTemplate(kekValue, 'aes'), usable);
      const des3 = await importKey(tk, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.DES3], [CKA.VALUE, des3Value]], usable);
      const key = await importKey(tk, secretKeyTemplate(payload, 'aes'), [[CKA.EXTRACTABLE, true], [CKA.ENCRYPT, true]]);
      const odd = await importKey(tk, secretKeyTemplate(crypto.randomBytes(24), 'aes'), [[CKA.EXTRACTABLE, true]]);
      const ecb = (alg: string, k: Buffer) => { const c = crypto.createCipheriv(alg, k, null).setAutoPadding(false); return Buffer.concat([c.update(payload), c.final()]); };
      const wrapped = await call(native.wrapKey(tk.session, { type: CKM.AES_ECB }, kek, key));
      expect(wrapped.equals(ecb('aes-256-ecb', kekValue))).toBe(true);
      const back = await call(native.unwrapKey(tk.session, { type: CKM.AES_ECB }, kek, wrapped, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.ENCRYPT, true]]));
      const probe = Buffer.alloc(16, 3);
      const c = crypto.createCipheriv('aes-256-ecb', payload, null).setAutoPadding(false);
      expect((await call(native.encrypt(tk.session, { type: CKM.AES_ECB }, back, probe))).equals(Buffer.concat([c.update(probe), c.final()]))).toBe(true);
      expect((await call(native.wrapKey(tk.session, { type: CKM.DES3_ECB }, des3, key))).equals(ecb('des-ede3-ecb', des3Value))).toBe(true);
      expect(await codeOf(call(native.wrapKey(tk.session, { type: CKM.AES_ECB }, kek, odd)))).toBe('CKR_KEY_SIZE_RANGE');
      const ctr = { type: CKM.AES_CTR, iv: Buffer.alloc(16, 9), counterBits: 64 };
      const viaCtr = await call(native.wrapKey(tk.session, ctr, kek, odd));
      expect(viaCtr).toHaveLength(24); // CTR wraps any length
    } finally {
      tk.close();
    }
    const cloud = await openCloudToken('ecb-cloud');
    try {
      const cloudKek = await call(native.generateKey(cloud.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.WRAP, true]]));
      const cloudKey = await call(native.generateKey(cloud.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.EXTRACTABLE, true]]));
      expect(await codeOf(call(native.wrapKey(cloud.session, { type: CKM.AES_ECB }, cloudKek, cloudKey)))).toBe('CKR_MECHANISM_INVALID');
    } finally {
      cloud.close();
    }
  });
});

function catching(f: () => unknown): unknown {
  try {
    f();
    return 'CKR_OK';
  } catch (e) {
    return e;
  }
}
