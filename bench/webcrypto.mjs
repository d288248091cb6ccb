// bench/webcrypto.mjs — part of `npm run bench`: hsm.subtle.sign beside node's own crypto.subtle.sign
// with the same key (imported into both from one PKCS#8), 16 in flight on each side.

import * as crypto from 'node:crypto';

import { SealHsm } from '../dist/index.js';
import { comparison } from './compare.mjs';

const { compare, results, SECONDS, ROUNDS, IN_FLIGHT } = comparison({ inFlight: 16 });

const hsm = SealHsm.memory({ profile: 'cloudhsm', sessions: 16 });
await hsm.activate('admin-password');
await hsm.login('admin', 'admin-password');
await hsm.users.create('bench', 'bench-password');
hsm.logout();
await hsm.login('bench', 'bench-password');

const ns = crypto.webcrypto.subtle;
const msg = crypto.randomBytes(64);
const pkcs8 = (k) => k.export({ format: 'der', type: 'pkcs8' });
const both = async (key, algorithm) => [
  await hsm.subtle.importKey('pkcs8', pkcs8(key), algorithm, false, ['sign']),
  await ns.importKey('pkcs8', pkcs8(key), algorithm, false, ['sign']),
];

console.log(`\nWebCrypto: hsm.subtle vs node's crypto.subtle, ${IN_FLIGHT} in flight, best of ${ROUNDS} x ${SECONDS}s`);
const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const [ourEc, theirEc] = await both(ec, { name: 'ECDSA', namedCurve: 'P-256' });
const es256 = { name: 'ECDSA', hash: 'SHA-256' };
await compare('subtle.sign ES256 (async)', () => hsm.subtle.sign(es256, ourEc, msg), () => ns.sign(es256, theirEc, msg));
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const [ourRsa, theirRsa] = await both(rsa, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' });
await compare('subtle.sign RS256 (async)', () => hsm.subtle.sign('RSASSA-PKCS1-v1_5', ourRsa, msg), () => ns.sign('RSASSA-PKCS1-v1_5', theirRsa, msg));

hsm.close();
if (process.env.BENCH_JSON) console.log(JSON.stringify(results));
