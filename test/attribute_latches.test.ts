// test/attribute_latches.test.ts — one table of attribute × path × direction for the attributes that
// may only move one way, are the SO's or an admin's, or are the token's own (PKCS#11 v3.0 §4.4–4.10
// footnotes; CloudHSM `key set-attribute`): every path that changes an object or makes one from a
// template (C_SetAttributeValue, C_CopyObject, generate, create, unwrap, derive) keeps them, a
// violation is CKR_ATTRIBUTE_READ_ONLY, and a refused change changes nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CKA, CKK, CKM, CKO, call, native, type NativeTemplate } from '../src/index.js';
import { codeOf, openCloudToken, openToken, type TestToken } from './helpers/hsm.js';

type Path = 'set' | 'copy';
type Outcome = 'ok' | string;

interface Row {
  attr: number;
  name: string;
  from: boolean;
  to: boolean;
  pkcs11: Record<Path, Outcome>;
  cloudhsm: Outcome; // set-attribute (CloudHSM has no C_CopyObject)
}

const RO = 'CKR_ATTRIBUTE_READ_ONLY';
const ROWS: Row[] = [
  { attr: CKA.SENSITIVE, name: 'SENSITIVE', from: false, to: true, pkcs11: { set: 'ok', copy: 'ok' }, cloudhsm: 'ok' },
  { attr: CKA.SENSITIVE, name: 'SENSITIVE', from: true, to: false, pkcs11: { set: RO, copy: RO }, cloudhsm: RO },
  { attr: CKA.EXTRACTABLE, name: 'EXTRACTABLE', from: true, to: false, pkcs11: { set: 'ok', copy: 'ok' }, cloudhsm: RO },
  { attr: CKA.EXTRACTABLE, name: 'EXTRACTABLE', from: false, to: true, pkcs11: { set: RO, copy: RO }, cloudhsm: RO },
  { attr: CKA.WRAP_WITH_TRUSTED, name: 'WRAP_WITH_TRUSTED', from: false, to: true, pkcs11: { set: 'ok', copy: 'ok' }, cloudhsm: 'ok' },
  { attr: CKA.WRAP_WITH_TRUSTED, name: 'WRAP_WITH_TRUSTED', from: true, to: false, pkcs11: { set: RO, copy: RO }, cloudhsm: RO },
  { attr: CKA.COPYABLE, name: 'COPYABLE', from: true, to: false, pkcs11: { set: 'ok', copy: 'ok' }, cloudhsm: RO },
  { attr: CKA.COPYABLE, name: 'COPYABLE', from: false, to: true, pkcs11: { set: RO, copy: 'CKR_ACTION_PROHIBITED' }, cloudhsm: RO },
  { attr: CKA.MODIFIABLE, name: 'MODIFIABLE', from: true, to: false, pkcs11: { set: 'ok', copy: 'ok' }, cloudhsm: 'ok' },
  // Once false, nothing changes the object; a copy may be modifiable again (§4.4: CKA_MODIFIABLE may change in a copy).
  { attr: CKA.MODIFIABLE, name: 'MODIFIABLE', from: false, to: true, pkcs11: { set: 'CKR_ACTION_PROHIBITED', copy: 'ok' }, cloudhsm: 'CKR_ACTION_PROHIBITED' },
  { attr: CKA.TRUSTED, name: 'TRUSTED (a user)', from: false, to: true, pkcs11: { set: RO, copy: RO }, cloudhsm: RO },
  { attr: CKA.TRUSTED, name: 'TRUSTED (a user)', from: true, to: false, pkcs11: { set: RO, copy: RO }, cloudhsm: RO },
];
// Computed by the token: read-only on every path, whatever the value.
const TOKEN_ONLY: Array<[number, string, boolean | number]> = [
  [CKA.ALWAYS_SENSITIVE, 'ALWAYS_SENSITIVE', false], [CKA.NEVER_EXTRACTABLE, 'NEVER_EXTRACTABLE', false],
  [CKA.LOCAL, 'LOCAL', false], [CKA.KEY_GEN_MECHANISM, 'KEY_GEN_MECHANISM', CKM.AES_KEY_GEN],
];

const AES: NativeTemplate = [[CKA.VALUE_LEN, 32], [CKA.ENCRYPT, true], [CKA.WRAP, true], [CKA.UNWRAP, true], [CKA.DERIVE, true]];
const flag = async (session: number, key: number, attr: number) => {
  const [v] = await call(native.getAttributes(session, key, [attr]));
  return v?.value?.[0] === 1;
};

let p11: TestToken;
let cloud: TestToken;
beforeAll(async () => {
  p11 = await openToken('latches');
  cloud = await openCloudToken('latches');
});
afterAll(() => {
  p11.close();
  cloud.close();
});

/** Makes a key with the row's starting value; TRUSTED=true needs the SO (pkcs11) or an admin (CloudHSM). */
async function keyWith(session: number, slot: number, attr: number, from: boolean, profile: 'pkcs11' | 'cloudhsm'): Promise<number> {
  if (attr !== CKA.TRUSTED || !from) return call(native.generateKey(session, { type: CKM.AES_KEY_GEN }, [...AES, [attr, from]]));
  // The pkcs11 SO sees only public objects; CloudHSM's admins see every key.
  const key = await call(native.generateKey(session, { type: CKM.AES_KEY_GEN }, profile === 'pkcs11' ? [...AES, [CKA.PRIVATE, false]] : AES));
  const [user, userPw, admin, adminPw] = profile === 'pkcs11' ? ['user', 'user-pin-1234', 'so', 'so-pin-1234'] : ['alice', 'alice-password', 'admin', 'admin-password'];
  native.logout(slot);
  await native.login(slot, admin, adminPw);
  try {
    await call(native.setAttributes(session, key, [[CKA.TRUSTED, true]]));
  } finally {
    native.logout(slot);
    await native.login(slot, user, userPw);
  }
  return key;
}

describe('one-way and admin-only attributes, by path and direction', () => {
  for (const row of ROWS) {
    for (const path of ['set', 'copy'] as const) {
      it(`pkcs11 ${path}: ${row.name} ${row.from} → ${row.to} is ${row.pkcs11[path]}`, async () => {
        const key = await keyWith(p11.session, p11.slot, row.attr, row.from, 'pkcs11');
        const change: NativeTemplate = [[row.attr, row.to]];
        const result = path === 'set' ? native.setAttributes(p11.session, key, change) : native.copyObject(p11.session, key, change);
        expect(await codeOf(result.then(() => undefined))).toBe(row.pkcs11[path] === 'ok' ? undefined : row.pkcs11[path]);
        expect(await flag(p11.session, key, row.attr)).toBe(path === 'set' && row.pkcs11.set === 'ok' ? row.to : row.from); // refused: unchanged
      });
    }
    it(`cloudhsm set-attribute: ${row.name} ${row.from} → ${row.to} is ${row.cloudhsm}`, async () => {
      const key = await keyWith(cloud.session, cloud.slot, row.attr, row.from, 'cloudhsm');
      expect(await codeOf(call(native.setAttributes(cloud.session, key, [[row.attr, row.to]])))).toBe(row.cloudhsm === 'ok' ? undefined : row.cloudhsm);
      expect(await flag(cloud.session, key, row.attr)).toBe(row.cloudhsm === 'ok' ? row.to : row.from);
    });
  }

  it('what the token computes is read-only on every path', async () => {
    const key = await call(native.generateKey(p11.session, { type: CKM.AES_KEY_GEN }, AES));
    for (const [attr, name, value] of TOKEN_ONLY) {
      const t: NativeTemplate = [[attr, value]];
      expect([name, 'set', await codeOf(call(native.setAttributes(p11.session, key, t)))]).toEqual([name, 'set', RO]);
      expect([name, 'copy', await codeOf(call(native.copyObject(p11.session, key, t)))]).toEqual([name, 'copy', RO]);
      expect([name, 'generate', await codeOf(call(native.generateKey(p11.session, { type: CKM.AES_KEY_GEN }, [...AES, ...t])))]).toEqual([name, 'generate', RO]);
      expect([name, 'cloudhsm', await codeOf(call(native.setAttributes(cloud.session, await call(native.generateKey(cloud.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32]])), t)))]).toEqual([name, 'cloudhsm', RO]);
    }
  });

  it('C_CopyObject is refused in the CloudHSM profiles through the addon as through the module', async () => {
    const key = await call(native.generateKey(cloud.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32]]));
    expect(await codeOf(call(native.copyObject(cloud.session, key, [])))).toBe('CKR_FUNCTION_NOT_SUPPORTED');
  });
});

describe('CKA_TRUSTED: no user makes a key that may wrap CKA_WRAP_WITH_TRUSTED keys', () => {
  it('not by generating, creating, unwrapping, deriving or copying one', async () => {
    const trusted: NativeTemplate = [[CKA.TRUSTED, true]];
    expect(await codeOf(call(native.generateKey(p11.session, { type: CKM.AES_KEY_GEN }, [...AES, ...trusted])))).toBe(RO);
    expect(await codeOf(call(native.createObject(p11.session, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, Buffer.alloc(32, 7)], [CKA.WRAP, true], ...trusted])))).toBe(RO);
    const kek = await call(native.generateKey(p11.session, { type: CKM.AES_KEY_GEN }, [...AES, [CKA.EXTRACTABLE, true]]));
    const payload = await call(native.generateKey(p11.session, { type: CKM.AES_KEY_GEN }, [...AES, [CKA.EXTRACTABLE, true]]));
    const wrapped = await call(native.wrapKey(p11.session, { type: CKM.AES_KEY_WRAP_PAD }, kek, payload));
    const unwrapTemplate: NativeTemplate = [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.WRAP, true]];
    expect(await codeOf(call(native.unwrapKey(p11.session, { type: CKM.AES_KEY_WRAP_PAD }, kek, wrapped, [...unwrapTemplate, ...trusted])))).toBe(RO);
    // An unwrapping key whose CKA_UNWRAP_TEMPLATE forces CKA_TRUSTED is no way around it either.
    const forcing = await call(native.generateKey(p11.session, { type: CKM.AES_KEY_GEN }, [...AES, [CKA.UNWRAP_TEMPLATE, [[CKA.TRUSTED, true]]]]));
    const wrapped2 = await call(native.wrapKey(p11.session, { type: CKM.AES_KEY_WRAP_PAD }, forcing, payload));
    expect(await codeOf(call(native.unwrapKey(p11.session, { type: CKM.AES_KEY_WRAP_PAD }, forcing, wrapped2, unwrapTemplate)))).toBe(RO);
    const ikm = await call(native.generateKey(p11.session, { type: CKM.GENERIC_SECRET_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.DERIVE, true]]));
    const hkdf = { type: CKM.HKDF_DERIVE, extract: true, expand: true, hashAlg: CKM.SHA256, saltType: 1, info: Buffer.from('ctx') };
    expect(await codeOf(call(native.deriveKey(p11.session, hkdf, ikm, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE_LEN, 32], ...trusted])))).toBe(RO);
    expect(await codeOf(call(native.copyObject(p11.session, kek, trusted)))).toBe(RO);
  });

  it('the reported leak: a WRAP_WITH_TRUSTED key cannot be copied without it, so it cannot be wrapped under the caller\'s key', async () => {
    const secret = await call(native.generateKey(p11.session, { type: CKM.AES_KEY_GEN }, [...AES, [CKA.EXTRACTABLE, true], [CKA.WRAP_WITH_TRUSTED, true]]));
    const mine = await call(native.generateKey(p11.session, { type: CKM.AES_KEY_GEN }, AES));
    expect(await codeOf(call(native.wrapKey(p11.session, { type: CKM.AES_KEY_WRAP_PAD }, mine, secret)))).toBe('CKR_KEY_NOT_WRAPPABLE');
    expect(await codeOf(call(native.copyObject(p11.session, secret, [[CKA.WRAP_WITH_TRUSTED, false]])))).toBe(RO);
    const copy = await call(native.copyObject(p11.session, secret, [[CKA.LABEL, Buffer.from('copy')]]));
    expect(await flag(p11.session, copy, CKA.WRAP_WITH_TRUSTED)).toBe(true);
    expect(await codeOf(call(native.wrapKey(p11.session, { type: CKM.AES_KEY_WRAP_PAD }, mine, copy)))).toBe('CKR_KEY_NOT_WRAPPABLE');
  });
});
