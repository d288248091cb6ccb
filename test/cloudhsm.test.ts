// test/cloudhsm.test.ts
// One test per behaviour in ../shared/spec/cloudhsm.md "Implications for a local stand-in"
// (items 1–13 and the quota part of 15), each named after it and asserting the exact code.

import * as crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';

import { CKA, CKK, CKM, CKO, SealHsm, call, curveByName, native, type ProfileName } from '../src/index.js';
import { openToken } from './helpers/hsm.js';
import { withAliceAndBob } from './helpers/store.js';

const open: SealHsm[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** An activated cluster with crypto users alice and bob; alice is logged in. */
async function cluster(profile: ProfileName = 'cloudhsm'): Promise<SealHsm> {
  const hsm = SealHsm.memory({ profile });
  open.push(hsm);
  return withAliceAndBob(hsm);
}

async function as(hsm: SealHsm, user: string): Promise<void> {
  if (hsm.currentUser) hsm.logout();
  await hsm.login(user, `${user}-password`);
}

function rawCluster(profile: ProfileName = 'cloudhsm'): { slot: number; session: () => number } {
  const slot = native.createToken(profile, 'raw');
  return { slot, session: () => native.openSession(slot, true) };
}

async function rawLoggedIn(profile: ProfileName = 'cloudhsm') {
  const c = rawCluster(profile);
  await native.activate(c.slot, 'admin-password');
  await native.login(c.slot, 'admin', 'admin-password');
  await native.createUser(c.slot, 'alice', 'alice-password', 'crypto-user');
  native.logout(c.slot);
  await native.login(c.slot, 'alice', 'alice-password');
  return { ...c, s: c.session(), close: () => native.removeToken(c.slot) };
}

async function flags(s: number, h: number, types: number[]): Promise<Array<number | undefined>> {
  return (await call(native.getAttributes(s, h, types))).map((a) => a.value?.[0]);
}

describe('1. login: one login per application, user:password, second login refused, logout for all', () => {
  it('covers every pooled session, refuses a second login, and logout ends it everywhere', async () => {
    const hsm = await cluster();
    const key = await hsm.keys.generateAes();
    const many = await Promise.all(Array.from({ length: 64 }, () => key.encrypt(Buffer.from('x'))));
    expect(many).toHaveLength(64);
    expect(await codeOf(hsm.login('bob', 'bob-password'))).toBe('CKR_USER_ALREADY_LOGGED_IN');
    hsm.logout();
    expect(hsm.currentUser).toBeUndefined();
    expect(await codeOf(key.encrypt(Buffer.from('x')))).toBe('CKR_USER_NOT_LOGGED_IN');
    expect(await codeOf(() => hsm.logout())).toBe('CKR_USER_NOT_LOGGED_IN');
  });

  it('wrong password is CKR_PIN_INCORRECT; more than 5 failures lock until an admin changes the password, and a locked user is answered as a wrong password', async () => {
    const hsm = await cluster();
    hsm.logout();
    const unknown = await hsm.login('nobody', 'whatever-password').catch((e: Error) => e);
    expect(unknown).toMatchObject({ code: 'CKR_PIN_INCORRECT' });
    for (let i = 0; i < 6; i++) expect(await codeOf(hsm.login('bob', 'wrong-password'))).toBe('CKR_PIN_INCORRECT');
    const locked = await hsm.login('bob', 'bob-password').catch((e: Error) => e);
    // The same code and message as for an unknown user: a lock tells a guesser nothing.
    expect(locked).toMatchObject({ code: 'CKR_PIN_INCORRECT', message: (unknown as Error).message });
    expect((locked as Error).message).not.toContain('bob');
    expect(hsm.users.list().find((u) => u.username === 'bob')?.locked).toBe(true);
    await hsm.login('admin', 'admin-password');
    await hsm.users.changePassword('bob', 'bob-password');
    hsm.logout();
    await expect(hsm.login('bob', 'bob-password')).resolves.toEqual({ username: 'bob', role: 'crypto-user' });
  });

  it('a successful login resets the failure count', async () => {
    const hsm = await cluster();
    hsm.logout();
    for (let i = 0; i < 5; i++) await codeOf(hsm.login('bob', 'wrong-password'));
    await hsm.login('bob', 'bob-password');
    hsm.logout();
    expect(await codeOf(hsm.login('bob', 'wrong-password'))).toBe('CKR_PIN_INCORRECT');
  });
});

describe('2. slots: several clusters side by side', () => {
  it('keys of one cluster are invisible in another', async () => {
    const a = await cluster();
    const b = await cluster();
    const k = await a.keys.generateAes({ label: 'only-in-a' });
    expect(await b.keys.find({ label: 'only-in-a' })).toEqual([]);
    expect(await codeOf(b.keys.get(k.ref))).toBe('CKR_OBJECT_HANDLE_INVALID');
  });
});

describe('3. sessions: at most 1,024 per application', () => {
  it('the 1,025th session is CKR_SESSION_COUNT', () => {
    const c = rawCluster();
    for (let i = 0; i < 1024; i++) c.session();
    expect(() => c.session()).toThrow(expect.objectContaining({ code: 'CKR_SESSION_COUNT' }));
    native.removeToken(c.slot);
  });
});

describe('4. ownership and visibility: owner, shared users use only, admins never use keys', () => {
  it('a crypto user sees its keys, keys shared with it, and every public key', async () => {
    const hsm = await cluster();
    const pair = await hsm.keys.generateEc({ curve: 'secp256r1', label: 'alice-ec' });
    const aes = await hsm.keys.generateAes({ label: 'alice-aes' });
    await as(hsm, 'bob');
    expect((await hsm.keys.find()).map((k) => k.class)).toEqual(['public-key']);
    expect(await codeOf(aes.encrypt(Buffer.from('x')))).toBe('CKR_KEY_HANDLE_INVALID');
    expect(await codeOf(pair.privateKey.sign(Buffer.from('x')))).toBe('CKR_KEY_HANDLE_INVALID');
    await expect(pair.publicKey.verify(Buffer.from('x'), Buffer.alloc(64))).resolves.toBe(false);
  });

  it('shared users may use the key but not delete, share, wrap, derive from or change it; unshare hides it again', async () => {
    const hsm = await cluster();
    const pair = await hsm.keys.generateEc({ curve: 'secp256r1', derive: true, extractable: true });
    const kek = await hsm.keys.generateAes({ wrap: true });
    await pair.privateKey.share('bob');
    await kek.share('bob');
    expect((await pair.privateKey.info()).sharedWith).toEqual(['bob']);
    await as(hsm, 'bob');
    const sig = await pair.privateKey.sign(Buffer.from('shared'));
    expect(await pair.publicKey.verify(Buffer.from('shared'), sig)).toBe(true);
    expect(await codeOf(pair.privateKey.delete())).toBe('CKR_ACTION_PROHIBITED');
    expect(await codeOf(pair.privateKey.share('admin'))).toBe('CKR_ACTION_PROHIBITED');
    expect(await codeOf(pair.privateKey.setAttributes({ label: 'mine' }))).toBe('CKR_ACTION_PROHIBITED');
    expect(await codeOf(kek.wrap(pair.privateKey))).toBe('CKR_KEY_NOT_WRAPPABLE');
    const peer = crypto.createECDH('prime256v1');
    peer.generateKeys();
    expect(await codeOf(pair.privateKey.deriveEcdh(peer.getPublicKey(), { type: 'generic-secret' }))).toBe('CKR_KEY_FUNCTION_NOT_PERMITTED');
    await as(hsm, 'alice');
    await pair.privateKey.unshare('bob');
    await as(hsm, 'bob');
    expect(await codeOf(pair.privateKey.sign(Buffer.from('x')))).toBe('CKR_KEY_HANDLE_INVALID');
  });

  it('admins list keys but cannot use or create them (CKR_USER_TYPE_INVALID)', async () => {
    const hsm = await cluster();
    const aes = await hsm.keys.generateAes({ label: 'seen-by-admin' });
    await as(hsm, 'admin');
    expect((await hsm.keys.find({ label: 'seen-by-admin' })).map((k) => k.ref)).toEqual([aes.ref]);
    expect(await codeOf(aes.encrypt(Buffer.from('x')))).toBe('CKR_USER_TYPE_INVALID');
    expect(await codeOf(hsm.keys.generateAes())).toBe('CKR_USER_TYPE_INVALID');
    expect(await codeOf(hsm.digest(Buffer.from('x')))).toBe('CKR_USER_TYPE_INVALID');
  });
});

describe('5. attribute defaults exactly as §1.5', () => {
  it('secret keys: session, private, sensitive, extractable, sign+verify true, encrypt/decrypt/wrap/unwrap/derive false, local', async () => {
    const t = await rawLoggedIn();
    const k = await call(native.generateKey(t.s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32]]));
    expect(await flags(t.s, k, [CKA.TOKEN, CKA.PRIVATE, CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.SIGN, CKA.VERIFY, CKA.ENCRYPT, CKA.DECRYPT, CKA.WRAP, CKA.UNWRAP, CKA.DERIVE, CKA.LOCAL, CKA.MODIFIABLE, CKA.DESTROYABLE, CKA.TRUSTED, CKA.WRAP_WITH_TRUSTED]))
      .toEqual([0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0]);
    t.close();
  });

  it('key pairs: private on both halves, sign/verify/encrypt/decrypt false, local; imported keys are not local', async () => {
    const t = await rawLoggedIn();
    const [pub, priv] = await call(native.generateKeyPair(t.s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, curveByName('secp256r1').params]], []));
    expect(await flags(t.s, pub, [CKA.TOKEN, CKA.PRIVATE, CKA.VERIFY, CKA.ENCRYPT, CKA.WRAP, CKA.LOCAL])).toEqual([0, 1, 0, 0, 0, 1]);
    expect(await flags(t.s, priv, [CKA.PRIVATE, CKA.SIGN, CKA.DECRYPT, CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.LOCAL])).toEqual([1, 0, 0, 1, 1, 1]);
    const imported = await call(native.createObject(t.s, [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.AES], [CKA.VALUE, Buffer.alloc(16, 1)]]));
    expect(await flags(t.s, imported, [CKA.LOCAL, CKA.SIGN])).toEqual([0, 1]);
    t.close();
  });

  it('CKA_PRIVATE=false on a key is CKR_ATTRIBUTE_VALUE_INVALID', async () => {
    const t = await rawLoggedIn();
    expect(await codeOf(call(native.generateKey(t.s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.PRIVATE, false]])))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    t.close();
  });
});

describe('6. attribute errors', () => {
  it('unsupported in a template → CKR_TEMPLATE_INCONSISTENT; read-only → CKR_ATTRIBUTE_READ_ONLY', async () => {
    const t = await rawLoggedIn();
    expect(await codeOf(call(native.generateKey(t.s, { type: CKM.GENERIC_SECRET_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.ENCRYPT, true]])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    expect(await codeOf(call(native.generateKeyPair(t.s, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, curveByName('secp256r1').params]], [[CKA.SIGN_RECOVER, true]])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    expect(await codeOf(call(native.generateKey(t.s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.LOCAL, false]])))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    // An attribute of another class in the template: CloudHSM's error-code page says TEMPLATE_INCONSISTENT;
    // the standard (pkcs11 profile) says ATTRIBUTE_TYPE_INVALID.
    expect(await codeOf(call(native.generateKey(t.s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.SIGN_RECOVER, true]])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    expect(await codeOf(call(native.generateKey(t.s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.MODULUS_BITS, 2048]])))).toBe('CKR_TEMPLATE_INCONSISTENT');
    t.close();
    const std = await openToken('inapplicable');
    expect(await codeOf(call(native.generateKey(std.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.SIGN_RECOVER, true]])))).toBe('CKR_ATTRIBUTE_TYPE_INVALID');
    std.close();
  });

  it('reads: unsupported → CKR_ATTRIBUTE_TYPE_INVALID, sensitive → CKR_ATTRIBUTE_SENSITIVE, the other entries still filled', async () => {
    const t = await rawLoggedIn();
    const k = await call(native.generateKey(t.s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.LABEL, 'x']]));
    const got = await call(native.getAttributes(t.s, k, [CKA.MODULUS, CKA.VALUE, CKA.LABEL]));
    expect(got.map((a) => a.rv)).toEqual([0x12, 0x11, 0]);
    expect(got[2]?.value?.toString()).toBe('x');
    t.close();
  });
});

describe('7. no C_SetAttributeValue on keys; set-attribute with one-way rules', () => {
  it('label and usage change; extractable never; token only session→token; modifiable only true→false', async () => {
    const hsm = await cluster();
    const k = await hsm.keys.generateAes({ label: 'before' });
    await k.setAttributes({ label: 'after', sign: false });
    expect((await k.info()).label).toBe('after');
    expect(await codeOf(k.setAttributes({ extractable: false } as never))).toBe('CKR_ATTRIBUTE_READ_ONLY'); // not settable, so not in the type
    await k.setAttributes({ token: true });
    expect(await codeOf(k.setAttributes({ token: false }))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    await k.setAttributes({ modifiable: false });
    expect(await codeOf(k.setAttributes({ label: 'again' }))).toBe('CKR_ACTION_PROHIBITED');
  });

  it('wrap-with-trusted is sticky; trusted is for admins only', async () => {
    const hsm = await cluster();
    const k = await hsm.keys.generateAes({ wrapWithTrusted: true });
    expect(await codeOf(k.setAttributes({ wrapWithTrusted: false }))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    expect(await codeOf(k.setAttributes({ trusted: true }))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    await as(hsm, 'admin');
    await k.setAttributes({ trusted: true });
    expect(await codeOf(k.setAttributes({ label: 'x' }))).toBe('CKR_USER_TYPE_INVALID');
  });

  it('sensitive only false→true, and derive is never true on a public key', async () => {
    const hsm = await cluster();
    const k = await hsm.keys.generateAes({ sensitive: false });
    await k.setAttributes({ sensitive: true });
    expect(await codeOf(k.setAttributes({ sensitive: false }))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    const pair = await hsm.keys.generateEc({ curve: 'secp256r1' });
    expect(await codeOf(pair.publicKey.setAttributes({ derive: true }))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
  });
});

describe('8. session keys: usable by every session, gone with the session that made them', () => {
  it('after the creating session closes, use is CKR_KEY_HANDLE_INVALID; token keys stay', async () => {
    const t = await rawLoggedIn();
    const creator = t.session();
    const k = await call(native.generateKey(creator, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.ENCRYPT, true]]));
    const tokenKey = await call(native.generateKey(creator, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.ENCRYPT, true], [CKA.TOKEN, true]]));
    const iv = Buffer.alloc(12);
    await expect(call(native.encrypt(t.s, { type: CKM.AES_GCM, iv }, k, Buffer.from('x')))).resolves.toHaveLength(17);
    native.closeSession(creator);
    expect(await codeOf(call(native.encrypt(t.s, { type: CKM.AES_GCM, iv }, k, Buffer.from('x'))))).toBe('CKR_KEY_HANDLE_INVALID');
    await expect(call(native.encrypt(t.s, { type: CKM.AES_GCM, iv }, tokenKey, Buffer.from('x')))).resolves.toHaveLength(17);
    t.close();
  });
});

describe('9. AES-GCM: the HSM makes the IV; CKM_CLOUDHSM_AES_GCM prepends it; single-part only', () => {
  it('the caller IV is ignored and the generated 12-byte IV is written back', async () => {
    const hsm = await cluster();
    const k = await hsm.keys.generateAes();
    const mine = Buffer.alloc(12, 7);
    const a = await k.encrypt(Buffer.from('gcm'), { name: 'AES_GCM', iv: mine });
    const b = await k.encrypt(Buffer.from('gcm'));
    expect(a.iv).toHaveLength(12);
    expect(a.iv.equals(mine)).toBe(false);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect((await k.decrypt(a.ciphertext, { name: 'AES_GCM', iv: a.iv })).toString()).toBe('gcm');
  });

  it('CKM_CLOUDHSM_AES_GCM puts the IV first and reads it back from there', async () => {
    const hsm = await cluster();
    const k = await hsm.keys.generateAes();
    const ct = await k.encrypt(Buffer.from('vendor gcm'), { name: 'CLOUDHSM_AES_GCM', aad: Buffer.from('a') });
    expect(ct.length).toBe(12 + 10 + 16);
    expect((await k.decrypt(ct, { name: 'CLOUDHSM_AES_GCM', aad: Buffer.from('a') })).toString()).toBe('vendor gcm');
  });

  it('GCM Update is CKR_MECHANISM_INVALID', async () => {
    const t = await rawLoggedIn();
    const k = await call(native.generateKey(t.s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32], [CKA.ENCRYPT, true]]));
    const iv = new Uint8Array(12);
    await call(native.encryptInit(t.s, { type: CKM.AES_GCM, iv }, k));
    expect(iv.some((b) => b !== 0)).toBe(true); // written back at init, as pIV
    expect(await codeOf(call(native.encryptUpdate(t.s, Buffer.from('x'))))).toBe('CKR_MECHANISM_INVALID');
    t.close();
  });
});

describe('10. per-call size limits (§1.4); hash-and-sign is unlimited', () => {
  it('HMAC-SHA256 16,288 bytes, AES-GCM 16,224 bytes; one more is CKR_DATA_LEN_RANGE', async () => {
    const hsm = await cluster();
    const mac = await hsm.keys.generateGenericSecret({ length: 32 });
    await expect(mac.sign(Buffer.alloc(16288))).resolves.toHaveLength(32);
    expect(await codeOf(mac.sign(Buffer.alloc(16289)))).toBe('CKR_DATA_LEN_RANGE');
    const aes = await hsm.keys.generateAes();
    await expect(aes.encrypt(Buffer.alloc(16224))).resolves.toBeDefined();
    expect(await codeOf(aes.encrypt(Buffer.alloc(16225)))).toBe('CKR_DATA_LEN_RANGE');
    const ec = await hsm.keys.generateEc({ curve: 'secp256r1' });
    await expect(ec.privateKey.sign(Buffer.alloc(1 << 20))).resolves.toHaveLength(64);
  });
});

describe('11. mechanism set and vendor constants (§1.6)', () => {
  it('the vendor AES key wraps round-trip; the standard CKM_AES_KEY_WRAP(_PAD) are refused', async () => {
    const hsm = await cluster();
    const kek = await hsm.keys.generateAes({ wrap: true, unwrap: true });
    const target = await hsm.keys.generateAes({ bits: 192 });
    const check = (await target.info()).bits;
    for (const m of ['CLOUDHSM_AES_KEY_WRAP_NO_PAD', 'CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD', 'CLOUDHSM_AES_KEY_WRAP_ZERO_PAD'] as const) {
      const blob = await kek.wrap(target, m);
      const back = await kek.unwrap(blob, { class: 'secret-key', type: 'aes' }, m);
      expect((await back.info()).bits).toBe(check);
    }
    expect(await codeOf(kek.wrap(target, 'AES_KEY_WRAP'))).toBe('CKR_MECHANISM_INVALID');
    expect(await codeOf(kek.wrap(target, 'AES_KEY_WRAP_PAD'))).toBe('CKR_MECHANISM_INVALID');
    expect(hsm.mechanisms()).toContain('CKM_CLOUDHSM_AES_GCM');
    expect(hsm.mechanisms()).not.toContain('CKM_AES_KEY_WRAP');
  });

  it('SP 800-108 counter KDF (vendor) matches an independent computation', async () => {
    const hsm = await cluster();
    const secret = crypto.randomBytes(32);
    const base = await hsm.keys.importSecret(secret, { type: 'generic-secret', derive: true });
    const label = Buffer.from('label'), context = Buffer.from('context');
    const out = await base.deriveSp800108({ type: 'aes', length: 32, kdfLabel: label, kdfContext: context, sensitive: false, prf: 'SHA256_HMAC' });
    const l = Buffer.alloc(4);
    l.writeUInt32BE(256);
    const expected = crypto.createHmac('sha256', secret).update(Buffer.concat([Buffer.from([0, 0, 0, 1]), label, Buffer.from([0]), context, l])).digest();
    expect((await out.exportSecretValue()).equals(expected)).toBe(true);
  });

  it('ECDH with the X9.63 SHA-256 KDF', async () => {
    const hsm = await cluster();
    const mine = await hsm.keys.generateEc({ curve: 'secp384r1', derive: true });
    const peer = crypto.createECDH('secp384r1');
    peer.generateKeys();
    const z = peer.computeSecret(await mine.publicKey.exportPublicKey('raw'));
    const key = await mine.privateKey.deriveEcdh(peer.getPublicKey(), { type: 'aes', length: 32, kdf: 'SHA256', sharedInfo: Buffer.from('info'), sensitive: false });
    const expected = crypto.createHash('sha256').update(Buffer.concat([z, Buffer.from([0, 0, 0, 1]), Buffer.from('info')])).digest();
    expect((await key.exportSecretValue()).equals(expected)).toBe(true);
  });
});

describe('12. wrap policy: owner only, extractable payload, trusted wrapping keys, templates', () => {
  it('an unextractable payload is CKR_KEY_UNEXTRACTABLE', async () => {
    const hsm = await cluster();
    const kek = await hsm.keys.generateAes({ wrap: true });
    const payload = await hsm.keys.generateAes({ extractable: false });
    expect(await codeOf(kek.wrap(payload))).toBe('CKR_KEY_UNEXTRACTABLE');
  });

  it('a wrap-with-trusted key needs a CKA_TRUSTED wrapping key', async () => {
    const hsm = await cluster();
    const kek = await hsm.keys.generateAes({ wrap: true });
    const payload = await hsm.keys.generateAes({ wrapWithTrusted: true });
    expect(await codeOf(kek.wrap(payload))).toBe('CKR_KEY_NOT_WRAPPABLE');
    await as(hsm, 'admin');
    await kek.setAttributes({ trusted: true });
    await as(hsm, 'alice');
    await expect(kek.wrap(payload)).resolves.toBeInstanceOf(Buffer);
  });

  it('CKA_WRAP_TEMPLATE limits what a key wraps; CKA_UNWRAP_TEMPLATE sets what it unwraps; unwrapped keys are not local', async () => {
    const hsm = await cluster();
    const kek = await hsm.keys.generateAes({ wrap: true, unwrap: true, wrapTemplate: { sign: false }, unwrapTemplate: { sign: false, encrypt: true } });
    const signer = await hsm.keys.generateAes();
    const quiet = await hsm.keys.generateAes({ sign: false });
    expect(await codeOf(kek.wrap(signer))).toBe('CKR_KEY_NOT_WRAPPABLE');
    const blob = await kek.wrap(quiet);
    const back = await kek.unwrap(blob, { class: 'secret-key', type: 'aes' });
    const info = await back.info();
    expect([info.attributes.sign, info.attributes.encrypt, info.attributes.local]).toEqual([false, true, false]);
    expect(await codeOf(kek.unwrap(blob, { class: 'secret-key', type: 'aes', sign: true }))).toBe('CKR_TEMPLATE_INCONSISTENT');
  });
});

describe('13. key parameter validation, with the HSM type / FIPS switch', () => {
  it('RSA 2048–4096 in steps of 256 with odd e ≥ 65537; AES 16/24/32; generic 1–800; the curve list', async () => {
    const hsm = await cluster();
    expect(await codeOf(hsm.keys.generateRsa({ modulusBits: 2300 }))).toBe('CKR_KEY_SIZE_RANGE');
    expect(await codeOf(hsm.keys.generateRsa({ modulusBits: 1024 }))).toBe('CKR_KEY_SIZE_RANGE');
    expect(await codeOf(hsm.keys.generateRsa({ publicExponent: 3n }))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    expect(await codeOf(hsm.keys.generateGenericSecret({ length: 801 }))).toBe('CKR_KEY_SIZE_RANGE');
    expect(await codeOf(hsm.keys.importSecret(Buffer.alloc(20), { type: 'aes' }))).toBe('CKR_ATTRIBUTE_VALUE_INVALID');
    for (const curve of ['secp224r1', 'secp256r1', 'secp384r1', 'secp521r1', 'secp256k1'] as const) {
      expect((await hsm.keys.generateEc({ curve })).privateKey.curve).toBe(curve);
    }
  });

  it('Ed25519 on hsm2m.medium non-FIPS only: CKR_MECHANISM_INVALID in cloudhsm-fips and cloudhsm-hsm1', async () => {
    const ok = await cluster('cloudhsm');
    await expect(ok.keys.generateEd25519()).resolves.toBeDefined();
    for (const p of ['cloudhsm-fips', 'cloudhsm-hsm1'] as const) {
      const fips = await cluster(p);
      expect(await codeOf(fips.keys.generateEd25519())).toBe('CKR_MECHANISM_INVALID');
      expect(await codeOf(fips.keys.importPrivateKey(crypto.generateKeyPairSync('ed25519').privateKey as crypto.KeyObject))).toBe('CKR_TEMPLATE_INCONSISTENT');
    }
  });
});

describe('14. users: roles, activation, name and password rules, deletion rules', () => {
  it('an unactivated cluster refuses logins; activation happens once', async () => {
    const hsm = SealHsm.memory();
    open.push(hsm);
    expect(hsm.activated).toBe(false);
    expect(await codeOf(hsm.login('admin', 'admin-password'))).toBe('CKR_USER_PIN_NOT_INITIALIZED');
    await hsm.activate('admin-password');
    expect(hsm.activated).toBe(true);
    expect(await codeOf(hsm.activate('another-password'))).toBe('CKR_ACTION_PROHIBITED');
    expect(hsm.users.list()).toEqual([{ username: 'admin', role: 'admin', locked: false }]);
  });

  it('names are 1–31 of letters, digits and _, case-insensitive; passwords are 8–32 characters', async () => {
    const hsm = await cluster();
    await as(hsm, 'admin');
    expect(await codeOf(hsm.users.create('a'.repeat(32), 'password-ok'))).toBe('CKR_ARGUMENTS_BAD');
    expect(await codeOf(hsm.users.create('bad-name', 'password-ok'))).toBe('CKR_ARGUMENTS_BAD');
    expect(await codeOf(hsm.users.create('carol', 'short'))).toBe('CKR_PIN_LEN_RANGE');
    expect(await codeOf(hsm.users.create('carol', 'x'.repeat(33)))).toBe('CKR_PIN_LEN_RANGE');
    await hsm.users.create('Carol', 'password-ok');
    expect(await codeOf(hsm.users.create('CAROL', 'password-ok'))).toBe('CKR_ARGUMENTS_BAD');
    expect(hsm.users.list().map((u) => u.username)).toContain('carol');
  });

  it('only admins manage users; an admin cannot delete a user who owns keys or is logged in', async () => {
    const hsm = await cluster();
    await hsm.keys.generateAes();
    expect(await codeOf(hsm.users.create('dave', 'password-ok'))).toBe('CKR_USER_TYPE_INVALID');
    await hsm.users.changePassword('alice', 'alice-password'); // crypto users change their own
    expect(await codeOf(hsm.users.changePassword('bob', 'new-password'))).toBe('CKR_USER_TYPE_INVALID');
    await as(hsm, 'admin');
    expect(await codeOf(hsm.users.delete('alice'))).toBe('CKR_ACTION_PROHIBITED');
    expect(await codeOf(hsm.users.delete('admin'))).toBe('CKR_ACTION_PROHIBITED');
    await hsm.users.delete('bob');
    expect(hsm.users.list().map((u) => u.username)).toEqual(['admin', 'alice']);
  });
});

describe('15. quotas per HSM type', () => {
  it('hsm1.medium: 3,300 keys per cluster, then CKR_DEVICE_MEMORY', async () => {
    const hsm = await cluster('cloudhsm-hsm1');
    for (let i = 0; i < 3300; i += 100) await Promise.all(Array.from({ length: 100 }, () => hsm.keys.generateAes({ bits: 128 })));
    expect(await codeOf(hsm.keys.generateAes({ bits: 128 }))).toBe('CKR_DEVICE_MEMORY');
  });

  it('hsm2m.medium: at most 3,333 asymmetric keys, then CKR_DEVICE_MEMORY (symmetric keys still fit)', async () => {
    const hsm = await cluster('cloudhsm');
    for (let i = 0; i < 1666; i += 98) await Promise.all(Array.from({ length: Math.min(98, 1666 - i) }, () => hsm.keys.generateEc({ curve: 'secp256r1' })));
    await hsm.keys.importPublicKey(crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey);
    expect(await codeOf(hsm.keys.generateEc({ curve: 'secp256r1' }))).toBe('CKR_DEVICE_MEMORY');
    await expect(hsm.keys.generateAes()).resolves.toBeDefined();
    // the quota's count follows deletions: two deleted halves make room for one new pair
    const [a, b] = await hsm.keys.find({ class: 'public-key', type: 'ec' });
    await a!.delete();
    await b!.delete();
    await expect(hsm.keys.generateEc({ curve: 'secp256r1' })).resolves.toBeDefined();
    expect(await codeOf(hsm.keys.generateEc({ curve: 'secp256r1' }))).toBe('CKR_DEVICE_MEMORY');
  });

  it('the key quota counts session keys, and closing their session gives the room back', async () => {
    const c = await rawLoggedIn('cloudhsm-hsm1');
    try {
      const gen = (s: number) => call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 16]]));
      for (let i = 0; i < 3300; i += 100) await Promise.all(Array.from({ length: 100 }, () => gen(c.s)));
      const s2 = c.session();
      expect(await codeOf(gen(s2))).toBe('CKR_DEVICE_MEMORY');
      native.closeSession(c.s);
      await expect(gen(s2)).resolves.toBeGreaterThan(0);
    } finally {
      c.close();
    }
  });

  it('hsm1.medium: 250 users, then CKR_DEVICE_MEMORY', async () => {
    const hsm = await cluster('cloudhsm-hsm1');
    await as(hsm, 'admin');
    await Promise.all(Array.from({ length: 247 }, (_, i) => hsm.users.create(`user_${i}`, 'password-ok')));
    expect(hsm.users.list()).toHaveLength(250);
    expect(await codeOf(hsm.users.create('one_more', 'password-ok'))).toBe('CKR_DEVICE_MEMORY');
  });
});
