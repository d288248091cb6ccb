// bench/rsa_import.mjs — importing an RSA-2048 private key (PKCS#8 DER) into the HSM beside node's
// createPrivateKey of the same bytes: medians of 20 imports each, same run. The HSM checks the key's
// numbers (rsa_check.cc) and runs a pairwise test; node parses it.
import * as crypto from 'node:crypto';

import { SealHsm } from '../dist/index.js';

const hsm = SealHsm.memory({ profile: 'pkcs11' });
await hsm.activate('so-password');
await hsm.login('so', 'so-password');
await hsm.users.create('user', 'user-password');
hsm.logout();
await hsm.login('user', 'user-password');
const keys = Array.from({ length: 5 }, () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'der', type: 'pkcs8' }));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ours = [], node = [];
for (let round = 0; round < 4; round++) {
  for (const data of keys) {
    let t0 = performance.now();
    await hsm.keys.importPrivateKey({ format: 'der', type: 'pkcs8', data });
    ours.push(performance.now() - t0);
    t0 = performance.now();
    crypto.createPrivateKey({ key: data, format: 'der', type: 'pkcs8' });
    node.push(performance.now() - t0);
  }
}
console.log(`RSA-2048 private-key import, median of ${ours.length}: sealhsm ${median(ours).toFixed(2)} ms, node ${median(node).toFixed(2)} ms (${(median(ours) / median(node)).toFixed(1)}x)`);
hsm.close();
