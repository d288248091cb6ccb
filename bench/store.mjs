// bench/store.mjs — part of `npm run bench`: the persistent token at scale.
//
// Builds (once, cached under .bench/) pkcs11-profile tokens of 10,000 and BENCH_KEYS (default
// 100,000) AES keys labelled key-<i>, then measures:
// - token-key creation (AES keys, and P-256 pairs) at 200 in flight on an empty token, on a copy of
//   the 10,000-key token and on a copy of the big one: the rate must not fall as the token grows;
// - the RSS a process adds for the big token beside an empty one (a child process each: open,
//   login, 300 finds and uses), against the token's size on disk;
// - open + login time, find-by-label latency, and ECDSA / AES-GCM throughput on the persistent token
//   beside an in-memory one, interleaved.
// Targets: creation >= 5,000/s and flat; find under 1 ms; open + login under 1 s; persistent sign
// within 10% of memory.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CKA, SealHsm, native } from '../dist/index.js';

const N = Number(process.env.BENCH_KEYS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const root = fileURLToPath(new URL('../.bench/', import.meta.url));
const login = async (hsm) => {
  await hsm.login('user', 'user-pin-0');
  return hsm;
};

/** Creates `count` token keys (AES, or P-256 pairs) with 200 in flight; returns keys (pairs) per second. */
async function create(hsm, count, kind = 'aes', prefix = 'key') {
  const t = performance.now();
  for (let i = 0; i < count; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) => (kind === 'aes'
      ? hsm.keys.generateAes({ token: true, label: `${prefix}-${i + j}`, bits: 128 })
      : hsm.keys.generateEc({ curve: 'secp256r1', token: true, label: `${prefix}-${i + j}` }))));
  }
  return count / ((performance.now() - t) / 1000);
}

/** A pkcs11-profile token of `n` AES keys (key-<i>) and one P-256 pair (bench-ec), built once. */
async function cachedToken(n) {
  const dir = `${root}token-v3-${n}`; // v3: per-user sealing
  if (existsSync(`${dir}/token.db`)) return dir;
  mkdirSync(root, { recursive: true });
  const t = performance.now();
  const hsm = await SealHsm.open({ dir, create: true, profile: 'pkcs11' });
  await hsm.activate('so-pin-0000');
  await hsm.login('so', 'so-pin-0000');
  await hsm.users.create('user', 'user-pin-0');
  hsm.logout();
  await login(hsm);
  await create(hsm, n);
  await hsm.keys.generateEc({ curve: 'secp256r1', token: true, label: 'bench-ec' });
  hsm.close();
  console.log(`built a token with ${n} keys in ${((performance.now() - t) / 1000).toFixed(1)} s (${dir})`);
  return dir;
}

const dir = await cachedToken(N);
const dir10k = await cachedToken(10_000);
const scratch = mkdtempSync(join(tmpdir(), 'sealhsm-store-bench-'));

// Creation rate by token size, on copies (the cached tokens stay as they are).
console.log(`\ntoken-key creation, 200 in flight (synchronous=FULL: every acknowledged key survives power loss)`);
console.log(`${'token holds'.padEnd(14)} ${'AES keys/s'.padStart(11)} ${'P-256 pairs/s'.padStart(14)}`);
const empty = join(scratch, 'empty');
{
  const hsm = await SealHsm.open({ dir: empty, create: true, profile: 'pkcs11' });
  await hsm.activate('so-pin-0000');
  await hsm.login('so', 'so-pin-0000');
  await hsm.users.create('user', 'user-pin-0');
  hsm.close();
}
for (const [name, source] of [['0 keys', empty], ['10,000 keys', dir10k], [`${N.toLocaleString('en-US')} keys`, dir]]) {
  const copy = join(scratch, `copy-${name.replace(/\W/g, '')}`);
  cpSync(source, copy, { recursive: true });
  const hsm = await login(await SealHsm.open({ dir: copy }));
  await create(hsm, 400, 'aes', 'warm');
  const aes = await create(hsm, 5_000, 'aes', 'new');
  const ec = await create(hsm, 2_000, 'ec', 'pair');
  hsm.close();
  rmSync(copy, { recursive: true, force: true });
  console.log(`${name.padEnd(14)} ${Math.round(aes).toLocaleString('en-US').padStart(11)} ${Math.round(ec).toLocaleString('en-US').padStart(14)}`);
}

// RSS: a child process per token (open, login, 300 finds and uses), big token beside empty.
const rssOf = (d) => Number(execFileSync(process.execPath, [fileURLToPath(new URL('./store_rss.mjs', import.meta.url)), d], { encoding: 'utf8' }).trim());
const rssEmpty = rssOf(empty), rssBig = rssOf(dir);
const onDisk = ['token.db', 'token.db-wal'].map((f) => (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0)).reduce((a, b) => a + b, 0);
console.log(`\nRSS of a process using the ${N.toLocaleString('en-US')}-key token ${(rssBig / 2 ** 20).toFixed(0)} MiB, an empty token ${(rssEmpty / 2 ** 20).toFixed(0)} MiB: ` +
  `${((rssBig - rssEmpty) / 2 ** 20).toFixed(1)} MiB more (${((rssBig - rssEmpty) / N).toFixed(0)} B per key); the token on disk (sealed keys, attributes, indexes) ${(onDisk / 2 ** 20).toFixed(0)} MiB`);
rmSync(scratch, { recursive: true, force: true });

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

