// test/wycheproof.test.ts
// The Wycheproof suite through both doors: the addon (PKCS#11-shaped, handles and CKM numbers) and
// the CloudHSM-shaped client (SealHsm, KeyHandle, typed mechanisms), each on a pkcs11-profile token
// (the CloudHSM profiles generate their own GCM IVs and offer no RFC 5649 wrap, so fixed-IV and KWP
// vectors cannot run there; test/cloudhsm.test.ts covers those profiles).

import { afterAll } from 'vitest';

import {
  CKA, CKK, CKM, CKO, SealHsm, call, cipherMechanism, curveByName, native, privateKeyTemplate, publicKeyTemplate,
  secretKeyTemplate, signMechanism, type KeyHandle,
} from '../src/index.js';
import { OPEN_SECRET, importKey, openToken, readValue, verifies } from './helpers/hsm.js';
import { wycheproofSuite, type Door } from './helpers/wycheproof_suite.js';

const tk = await openToken('wycheproof');
const hsm = SealHsm.memory({ profile: 'pkcs11', label: 'wycheproof-client' });
afterAll(() => {
  tk.close();
  hsm.close();
});

const ALL_USES = [[CKA.ENCRYPT, true], [CKA.DECRYPT, true], [CKA.SIGN, true], [CKA.VERIFY, true], [CKA.DERIVE, true]] as const;
const DERIVED = [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.GENERIC_SECRET], ...OPEN_SECRET] as const;

const addon: Door<number> = {
  aes: (v) => importKey(tk, secretKeyTemplate(v, 'aes'), ALL_USES.slice(0, 4)),
  generic: (v) => importKey(tk, secretKeyTemplate(v, 'generic'), [[CKA.SIGN, true], [CKA.VERIFY, true], [CKA.DERIVE, true]]),
  publicSpki: (der) => importKey(tk, publicKeyTemplate({ format: 'der', type: 'spki', data: der }), [[CKA.VERIFY, true]]),
  privatePkcs8: (der) => importKey(tk, privateKeyTemplate({ format: 'der', type: 'pkcs8', data: der }), [[CKA.DECRYPT, true]]),
  ecPrivate: (curve, d) => importKey(tk, [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.EC], [CKA.EC_PARAMS, curveByName(curve).params], [CKA.VALUE, d]], [[CKA.DERIVE, true]]),
  encrypt: (k, m, data) => call(native.encrypt(tk.session, cipherMechanism(m), k, data)),
  decrypt: (k, m, data) => call(native.decrypt(tk.session, cipherMechanism(m), k, data)),
  sign: (k, m, data) => call(native.sign(tk.session, signMechanism(m), k, data)),
  verify: (k, m, data, sig) => verifies(tk, signMechanism(m), k, data, sig),
  ecdh: async (k, point) => readValue(tk, await call(native.deriveKey(tk.session, { type: CKM.ECDH1_DERIVE, kdf: 1, publicData: point }, k, DERIVED))),
  hkdf: async (k, salt, info, size) => {
    const m = { type: CKM.HKDF_DERIVE, extract: true, expand: true, hashAlg: CKM.SHA256, saltType: salt.length ? 2 : 1, salt, info };
    return readValue(tk, await call(native.deriveKey(tk.session, m, k, [...DERIVED, [CKA.VALUE_LEN, size]])));
  },
};

const client: () => Promise<Door<KeyHandle>> = async () => {
  await hsm.activate('so-pin-1234');
  await hsm.login('so', 'so-pin-1234');
  await hsm.users.create('user', 'user-pin-1234');
  hsm.logout();
  await hsm.login('user', 'user-pin-1234');
  const all = { encrypt: true, decrypt: true, sign: true, verify: true };
  return {
    aes: (v) => hsm.keys.importSecret(v, { type: 'aes', ...all }),
    generic: (v) => hsm.keys.importSecret(v, { type: 'generic-secret', sign: true, verify: true, derive: true }),
    publicSpki: (der) => hsm.keys.importPublicKey({ format: 'der', type: 'spki', data: der }, { verify: true }),
    privatePkcs8: (der) => hsm.keys.importPrivateKey({ format: 'der', type: 'pkcs8', data: der }, { decrypt: true }),
    ecPrivate: (curve, d) => hsm.keys.importPrivateKey({ format: 'raw', curve, value: d }, { derive: true, sign: false }),
    encrypt: async (k, m, data) => {
      const out = await k.encrypt(data, m);
      return Buffer.isBuffer(out) ? out : out.ciphertext;
    },
    decrypt: (k, m, data) => k.decrypt(data, m),
    sign: (k, m, data) => k.sign(data, m),
    verify: (k, m, data, sig) => k.verify(data, sig, m),
    ecdh: async (k, point) => (await k.deriveEcdh(point, { type: 'generic-secret', sensitive: false, extractable: true })).exportSecretValue(),
    hkdf: async (k, salt, info, size) =>
      (await k.deriveHkdf({ type: 'generic-secret', length: size, salt, info, sensitive: false, extractable: true })).exportSecretValue(),
  };
};

wycheproofSuite('addon', async () => addon);
wycheproofSuite('client', client);
