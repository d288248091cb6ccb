// bench/store.mjs — part of `npm run bench`: the persistent token at scale.
//
// Builds (once, cached under .bench/) a pkcs11-profile token with BENCH_KEYS (default 100,000) AES
// keys labelled key-<i>, then measures: open + login time; find-by-label latency (the native find,
// and the client's find that also loads and verifies the key); RSS; and ECDSA P-256 sign and
// AES-256-GCM 1 KiB ops/s on that persistent token beside an in-memory token, interleaved.
// Targets: find under 1 ms, open + login under 1 s, persistent sign within 10% of memory.

import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { CKA, CKM, SealHsm, curveByName, native } from '../dist/index.js';

const N = Number(process.env.BENCH_KEYS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const root = fileURLToPath(new URL('../.bench/', import.meta.url));
const dir = `${root}token-v2-${N}`; // v2: the authenticated token format
const login = async (hsm) => {
  await hsm.login('user', 'user-pin-0');
  return hsm;
};

if (!existsSync(`${dir}/token.db`)) {
  mkdirSync(root, { recursive: true });
  const t = performance.now();
  const hsm = await SealHsm.open({ dir, create: true, profile: 'pkcs11' });
  await hsm.activate('so-pin-0000');
  await hsm.login('so', 'so-pin-0000');
  await hsm.users.create('user', 'user-pin-0');
  hsm.logout();
  await login(hsm);
  for (let i = 0; i < N; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, N - i) }, (_, j) => hsm.keys.generateAes({ token: true, label: `key-${i + j}`, bits: 128 })));
  }
  await hsm.keys.generateEc({ curve: 'secp256r1', token: true, label: 'bench-ec' });
  hsm.close();
  console.log(`built a token with ${N} keys in ${((performance.now() - t) / 1000).toFixed(1)} s (${dir})`);
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];

// open + login
const opens = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const h = await login(await SealHsm.open({ dir }));
  opens.push(performance.now() - t);
  h.close();
}
const hsm = await login(await SealHsm.open({ dir }));
const rssOpen = process.memoryUsage().rss;

// find by label among N
const session = native.openSession(hsm.slot, true);
const nativeFind = [], clientFind = [];
for (let i = 0; i < 300; i++) {
  const label = `key-${Math.floor(Math.random() * N)}`;
  let t = performance.now();
  const found = await native.findObjects(session, [[CKA.LABEL, label]]);
  nativeFind.push(performance.now() - t);
  if (found.length !== 1) throw new Error(`expected one ${label}, found ${found.length}`);
  t = performance.now();
  const [k] = await hsm.keys.find({ label });
  clientFind.push(performance.now() - t);
  if (!k) throw new Error(`client did not find ${label}`);
}
const rssAfter = process.memoryUsage().rss;

console.log(`\ntoken with ${N} keys (${dir})`);
console.log(`open + login            median ${median(opens).toFixed(1)} ms   (target < 1000 ms)`);
console.log(`find by label (native)  median ${median(nativeFind).toFixed(3)} ms, p99 ${p99(nativeFind).toFixed(3)} ms   (target < 1 ms)`);
console.log(`find by label (client)  median ${median(clientFind).toFixed(3)} ms, p99 ${p99(clientFind).toFixed(3)} ms   (includes loading + verifying the key)`);
console.log(`RSS after open + login  ${(rssOpen / 2 ** 20).toFixed(0)} MiB; after 300 finds ${(rssAfter / 2 ** 20).toFixed(0)} MiB`);

// persistent vs memory, same work, interleaved
const mem = SealHsm.memory({ profile: 'pkcs11' });
await mem.activate('so-pin-0000');
await mem.login('so', 'so-pin-0000');
await mem.users.create('user', 'user-pin-0');
mem.logout();
await login(mem);
const [pEc] = await hsm.keys.find({ label: 'bench-ec', class: 'private-key' });
const mEc = (await mem.keys.generateEc({ curve: 'secp256r1' })).privateKey;
const pAes = (await hsm.keys.find({ label: 'key-0' }))[0];
const mAes = await mem.keys.importSecret(Buffer.alloc(16, 1), { type: 'aes' });
const data = Buffer.alloc(1024, 7);
async function opsPerSecond(fn) {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (performance.now() < end) {
      await fn();
      n++;
    }
  }));
  return n / SECONDS;
}
for (const [name, p, m] of [
  ['ECDSA P-256 sign', () => pEc.sign(data), () => mEc.sign(data)],
  ['AES-256-GCM 1 KiB', () => pAes.encrypt(data, { name: 'AES_GCM', iv: Buffer.alloc(12) }), () => mAes.encrypt(data, { name: 'AES_GCM', iv: Buffer.alloc(12) })],
]) {
  let best = [0, 0];
  for (let r = 0; r < 3; r++) best = [Math.max(best[0], await opsPerSecond(p)), Math.max(best[1], await opsPerSecond(m))];
  console.log(`${name.padEnd(24)} persistent ${Math.round(best[0])} ops/s, memory ${Math.round(best[1])} ops/s, ratio ${(best[0] / best[1]).toFixed(2)}`);
}
mem.close();
hsm.close();

void CKM;
void curveByName;
