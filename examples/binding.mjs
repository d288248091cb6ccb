// examples/binding.mjs — the PKCS#11-shaped binding underneath the client (`node examples/binding.mjs`)
// A memory token: generate a P-256 key pair and an AES-256 key inside the sealed slot, sign and
// verify (the signature also checks out in node:crypto with the exported public key), encrypt and
// decrypt with AES-GCM, and show that the private key cannot be read or wrapped out.

import * as crypto from 'node:crypto';

import { CKA, CKM, call, curveByName, native, spkiToPem } from '../dist/index.js';

const slot = native.createToken('pkcs11', 'quickstart');
await native.activate(slot, 'so-pin-1234');
await native.login(slot, 'so', 'so-pin-1234');
await native.createUser(slot, 'user', 'user-pin-1234', 'crypto-user');
native.logout(slot);
await native.login(slot, 'user', 'user-pin-1234');
const session = native.openSession(slot, true);

const [publicKey, privateKey] = await call(
  native.generateKeyPair(session, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, curveByName('secp256r1').params], [CKA.LABEL, 'signer']], [[CKA.LABEL, 'signer']]),
);
const message = Buffer.from('hello from the sealed slot');
const signature = await call(native.sign(session, { type: CKM.ECDSA_SHA256 }, privateKey, message));
const [spki] = await call(native.getAttributes(session, publicKey, [CKA.PUBLIC_KEY_INFO]));
const pem = spkiToPem(spki.value);
console.log('public key:\n' + pem.trim());
console.log('signature verifies in the token:', await call(native.verify(session, { type: CKM.ECDSA_SHA256 }, publicKey, message, signature)));
console.log('signature verifies in node:crypto:', crypto.verify('sha256', message, { key: pem, dsaEncoding: 'ieee-p1363' }, signature));

const aes = await call(native.generateKey(session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32]]));
const gcm = { type: CKM.AES_GCM, iv: crypto.randomBytes(12), aad: Buffer.from('header') };
const ciphertext = await call(native.encrypt(session, gcm, aes, Buffer.from('a secret note')));
console.log('AES-256-GCM round trip:', (await call(native.decrypt(session, gcm, aes, ciphertext))).toString());

const [secret] = await call(native.getAttributes(session, aes, [CKA.VALUE]));
console.log('reading the AES key value:', secret.value === null ? 'refused (CKR_ATTRIBUTE_SENSITIVE)' : 'LEAKED');
try {
  await call(native.wrapKey(session, { type: CKM.AES_KEY_WRAP_PAD }, aes, privateKey));
  console.log('wrapping the private key: LEAKED');
} catch (e) {
  console.log('wrapping the private key:', `refused (${e.code})`);
}
native.removeToken(slot);
