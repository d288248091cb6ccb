// examples/cloudhsm-quickstart.mjs — the README's quickstart, run by `npm start` and by the tests.
// A CloudHSM-like cluster in memory: activate it, create crypto users, generate keys, sign and verify
// (also with node:crypto), encrypt and decrypt, share a key, and watch the private key refuse to leave.

import * as crypto from 'node:crypto';

import { SealHsm } from '../dist/index.js';

const hsm = SealHsm.memory({ profile: 'cloudhsm' });

// cluster activate, then an admin creates two crypto users
await hsm.activate('admin-password');
await hsm.login('admin', 'admin-password');
await hsm.users.create('alice', 'alice-password', 'crypto-user');
await hsm.users.create('bob', 'bob-password', 'crypto-user');
hsm.logout();

// alice generates an EC key pair and an AES key
await hsm.login('alice', 'alice-password');
const { publicKey, privateKey } = await hsm.keys.generateEc({ curve: 'secp256r1', label: 'signer' });
const aes = await hsm.keys.generateAes({ bits: 256, label: 'data-key' });

const message = Buffer.from('hello from the HSM');
const signature = await privateKey.sign(message); // ECDSA P-256 with SHA-256, r||s
console.log('verifies in the HSM:', await publicKey.verify(message, signature));
const pem = await publicKey.exportPublicKey('pem');
console.log('verifies in node:crypto:', crypto.verify('sha256', message, { key: pem, dsaEncoding: 'ieee-p1363' }, signature));

const { ciphertext, iv } = await aes.encrypt(Buffer.from('a secret note')); // AES-GCM; the HSM picks the IV
console.log('decrypted:', (await aes.decrypt(ciphertext, { name: 'AES_GCM', iv })).toString());

// share the signing key with bob: he may use it, not delete or export it
await privateKey.share('bob');
hsm.logout();
await hsm.login('bob', 'bob-password');
const [shared] = await hsm.keys.find(['attr.label=signer', 'attr.class=private-key']);
console.log('bob signs with the shared key:', await publicKey.verify(message, await shared.sign(message)));
try {
  await shared.delete();
} catch (e) {
  console.log('bob deleting it:', e.code);
}
hsm.logout();

// the private key never leaves: not as a value, not wrapped by anyone but its owner
await hsm.login('alice', 'alice-password');
const kek = await hsm.keys.generateAes({ wrap: true });
const locked = await hsm.keys.generateEc({ curve: 'secp256r1', extractable: false });
for (const [what, attempt] of [
  ['reading the private key', () => locked.privateKey.exportSecretValue()],
  ['wrapping the unextractable private key', () => kek.wrap(locked.privateKey)],
]) {
  try {
    await attempt();
    console.log(`${what}: LEAKED`);
  } catch (e) {
    console.log(`${what}: refused (${e.code})`);
  }
}
hsm.close();
