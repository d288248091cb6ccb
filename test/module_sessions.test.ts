// test/module_sessions.test.ts
// PKCS#11 §5.6 session and login rules in the pkcs11 profile (issue: the stand-in holds under other
// people's suites): public sessions make non-private keys, login state codes, and the read-only /
// SO session exclusions.

import { createCipheriv, createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { attrs, configure, openModule, pkcs11js, rvOf } from './helpers/module.js';

configure(['slot memory profile=pkcs11 label=sessions']);
const p11 = openModule();
afterAll(() => p11.C_Finalize());
const [slot] = p11.C_GetSlotList(true) as [Buffer];
const RW = pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION;
const RO = pkcs11js.CKF_SERIAL_SESSION;

beforeAll(() => {
  p11.C_InitToken(slot, 'so-pin-0000', 'sessions'.padEnd(32, ' '));
  const s = p11.C_OpenSession(slot, RW);
  p11.C_Login(s, pkcs11js.CKU_SO, 'so-pin-0000');
  p11.C_InitPIN(s, 'user-pin-0');
  p11.C_Logout(s);
  p11.C_CloseSession(s);
});

describe('public sessions', () => {
  it('generate non-private session keys and key pairs without a login, as C_CreateObject does', () => {
    const s = p11.C_OpenSession(slot, RW);
    const aes = attrs([[pkcs11js.CKA_VALUE_LEN, 32], [pkcs11js.CKA_PRIVATE, false]]);
    expect(rvOf(() => p11.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, aes))).toBe('CKR_OK');
    const ec = attrs([[pkcs11js.CKA_EC_PARAMS, Buffer.from('06082a8648ce3d030107', 'hex')]]);
    expect(rvOf(() => p11.C_GenerateKeyPair(s, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, ec, attrs([[pkcs11js.CKA_PRIVATE, false]])))).toBe('CKR_OK');
    // A private key (the default for secret and private keys) still needs the user.
    expect(rvOf(() => p11.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, attrs([[pkcs11js.CKA_VALUE_LEN, 32]])))).toBe('CKR_USER_NOT_LOGGED_IN');
    p11.C_CloseSession(s);
  });
});

describe('login state', () => {
  it('the other user type logged in: CKR_USER_ANOTHER_ALREADY_LOGGED_IN; the same: CKR_USER_ALREADY_LOGGED_IN', () => {
    const s = p11.C_OpenSession(slot, RW);
    p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0');
    expect(rvOf(() => p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0'))).toBe('CKR_USER_ALREADY_LOGGED_IN');
    expect(rvOf(() => p11.C_Login(s, pkcs11js.CKU_SO, 'so-pin-0000'))).toBe('CKR_USER_ANOTHER_ALREADY_LOGGED_IN');
    p11.C_Logout(s);
    p11.C_CloseSession(s);
  });

  it('an SO login with any read-only session open: CKR_SESSION_READ_ONLY_EXISTS', () => {
    const ro = p11.C_OpenSession(slot, RO);
    const rw = p11.C_OpenSession(slot, RW);
    expect(rvOf(() => p11.C_Login(rw, pkcs11js.CKU_SO, 'so-pin-0000'))).toBe('CKR_SESSION_READ_ONLY_EXISTS');
    p11.C_CloseSession(ro);
    expect(rvOf(() => p11.C_Login(rw, pkcs11js.CKU_SO, 'so-pin-0000'))).toBe('CKR_OK');
    expect(rvOf(() => p11.C_OpenSession(slot, RO))).toBe('CKR_SESSION_READ_WRITE_SO_EXISTS');
    p11.C_Logout(rw);
    p11.C_CloseSession(rw);
  });
});

describe('objects and digests', () => {
  it('C_CopyObject may change a data object\'s CKA_VALUE (and other modifiable attributes)', () => {
    const s = p11.C_OpenSession(slot, RW);
    p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0');
    const data = p11.C_CreateObject(s, attrs([[pkcs11js.CKA_CLASS, pkcs11js.CKO_DATA], [pkcs11js.CKA_VALUE, Buffer.from('before')], [pkcs11js.CKA_LABEL, 'd']]));
    const copy = p11.C_CopyObject(s, data, attrs([[pkcs11js.CKA_VALUE, Buffer.from('after')], [pkcs11js.CKA_LABEL, 'd2']]));
    const [value] = p11.C_GetAttributeValue(s, copy, [{ type: pkcs11js.CKA_VALUE }]);
    expect(Buffer.from(value!.value as Buffer).toString()).toBe('after');
    const key = p11.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, attrs([[pkcs11js.CKA_VALUE_LEN, 32]]));
    expect(rvOf(() => p11.C_CopyObject(s, key, attrs([[pkcs11js.CKA_VALUE_LEN, 16]])))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    p11.C_Logout(s);
    p11.C_CloseSession(s);
  });

  it('C_DigestKey digests a secret key\'s value inside the token; a failed digest call ends the operation', () => {
    const s = p11.C_OpenSession(slot, RW);
    p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0');
    const value = Buffer.alloc(32, 7);
    const key = p11.C_CreateObject(s, attrs([[pkcs11js.CKA_CLASS, pkcs11js.CKO_SECRET_KEY], [pkcs11js.CKA_KEY_TYPE, pkcs11js.CKK_AES], [pkcs11js.CKA_VALUE, value]]));
    p11.C_DigestInit(s, { mechanism: pkcs11js.CKM_SHA256 });
    p11.C_DigestUpdate(s, Buffer.from('prefix'));
    p11.C_DigestKey(s, key);
    const got = p11.C_DigestFinal(s, Buffer.alloc(32));
    const want = createHash('sha256').update('prefix').update(value).digest();
    expect(Buffer.from(got).equals(want)).toBe(true);
    const { privateKey: priv } = p11.C_GenerateKeyPair(s, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, attrs([[pkcs11js.CKA_EC_PARAMS, Buffer.from('06082a8648ce3d030107', 'hex')]]), attrs([]));
    p11.C_DigestInit(s, { mechanism: pkcs11js.CKM_SHA256 });
    expect(rvOf(() => p11.C_DigestKey(s, priv))).toBe('CKR_KEY_INDIGESTIBLE');
    expect(rvOf(() => p11.C_DigestUpdate(s, Buffer.from('x')))).toBe('CKR_OPERATION_NOT_INITIALIZED'); // the failure ended it
    p11.C_Logout(s);
    p11.C_CloseSession(s);
  });
});

describe('operation state (PKCS#11 v3.0 §5.2)', () => {
  it('a single-part call during a multi-part operation, and an update after a single-part size query, are CKR_OPERATION_ACTIVE', () => {
    const s = p11.C_OpenSession(slot, RW);
    p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0');
    const key = p11.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, attrs([[pkcs11js.CKA_VALUE_LEN, 32], [pkcs11js.CKA_ENCRYPT, true]]));
    const cbc = { mechanism: pkcs11js.CKM_AES_CBC, parameter: Buffer.alloc(16, 1) };
    p11.C_EncryptInit(s, cbc, key);
    p11.C_EncryptUpdate(s, Buffer.alloc(16), Buffer.alloc(32));
    expect(rvOf(() => p11.C_Encrypt(s, Buffer.alloc(16), Buffer.alloc(32)))).toBe('CKR_OPERATION_ACTIVE');
    expect(rvOf(() => p11.C_EncryptFinal(s, Buffer.alloc(32)))).toBe('CKR_OK'); // still active, and it finishes

    p11.C_EncryptInit(s, cbc, key);
    expect(rvOf(() => p11.C_Encrypt(s, Buffer.alloc(32), Buffer.alloc(8)))).toBe('CKR_BUFFER_TOO_SMALL');
    expect(rvOf(() => p11.C_EncryptUpdate(s, Buffer.alloc(16), Buffer.alloc(32)))).toBe('CKR_OPERATION_ACTIVE');
    expect(rvOf(() => p11.C_Encrypt(s, Buffer.alloc(32), Buffer.alloc(32)))).toBe('CKR_OK'); // the kept result

    p11.C_DigestInit(s, { mechanism: pkcs11js.CKM_SHA256 });
    p11.C_DigestUpdate(s, Buffer.from('a'));
    expect(rvOf(() => p11.C_Digest(s, Buffer.from('b'), Buffer.alloc(32)))).toBe('CKR_OPERATION_ACTIVE');
    expect(rvOf(() => p11.C_DigestFinal(s, Buffer.alloc(32)))).toBe('CKR_OK');
    p11.C_Logout(s);
    p11.C_CloseSession(s);
  });
});

describe('Triple DES (pkcs11 and CloudHSM non-FIPS profiles)', () => {
  it('DES3 keys are generated with odd parity, and ECB / CBC / CBC_PAD match node:crypto', () => {
    const s = p11.C_OpenSession(slot, RW);
    p11.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0');
    const gen = p11.C_GenerateKey(s, { mechanism: 0x131 }, attrs([[pkcs11js.CKA_SENSITIVE, false], [pkcs11js.CKA_EXTRACTABLE, true], [pkcs11js.CKA_ENCRYPT, true]]));
    const [v] = p11.C_GetAttributeValue(s, gen, [{ type: pkcs11js.CKA_VALUE }]);
    const value = Buffer.from(v!.value as Buffer);
    expect(value.length).toBe(24);
    for (const b of value) expect(b.toString(2).split('1').length - 1).toSatisfy((n: number) => n % 2 === 1);
    const key = Buffer.from('0123456789abcdeffedcba987654321089abcdef01234567', 'hex');
    const h = p11.C_CreateObject(s, attrs([[pkcs11js.CKA_CLASS, pkcs11js.CKO_SECRET_KEY], [pkcs11js.CKA_KEY_TYPE, pkcs11js.CKK_DES3], [pkcs11js.CKA_VALUE, key],
      [pkcs11js.CKA_ENCRYPT, true], [pkcs11js.CKA_DECRYPT, true]]));
    const iv = Buffer.from('0001020304050607', 'hex');
    const data = Buffer.from('sixteen bytes!!!eight by');
    const cases: Array<[number, Buffer | undefined, string, boolean]> = [
      [0x132, undefined, 'des-ede3-ecb', false], [0x133, iv, 'des-ede3-cbc', false], [0x136, iv, 'des-ede3-cbc', true],
    ];
    for (const [mech, param, name, pad] of cases) {
      const c = createCipheriv(name, key, param ?? null);
      c.setAutoPadding(pad);
      const want = Buffer.concat([c.update(data), c.final()]);
      const mechanism = param ? { mechanism: mech, parameter: param } : { mechanism: mech };
      p11.C_EncryptInit(s, mechanism, h);
      const got = Buffer.from(p11.C_Encrypt(s, data, Buffer.alloc(64)));
      expect(got.toString('hex'), name).toBe(want.toString('hex'));
      p11.C_DecryptInit(s, mechanism, h);
      expect(Buffer.from(p11.C_Decrypt(s, got, Buffer.alloc(64))).equals(data)).toBe(true);
    }
    p11.C_Logout(s);
    p11.C_CloseSession(s);
  });
});
