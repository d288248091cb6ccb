// bench/stream.mjs — part of `npm run bench`: 1 GiB through key.encryptStream (AES-256-GCM and
// AES-256-CBC-PAD, multi-part inside the HSM) beside node:crypto's own cipher stream over the same
// source, and the peak RSS each adds (the data is never held whole). Environment: BENCH_STREAM_MIB
// (default 1024), BENCH_ROUNDS (default 2; the best round counts).

import * as crypto from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { SealHsm } from '../dist/index.js';

const MIB = Number(process.env.BENCH_STREAM_MIB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const piece = crypto.randomBytes(1 << 20);
const source = () => {
  let left = MIB;
  return new Readable({ highWaterMark: 4, objectMode: false, read() { this.push(left-- > 0 ? piece : null); } });
};
const sink = () => new Writable({ highWaterMark: 1 << 22, write(_c, _e, done) { done(); } });

const hsm = SealHsm.memory({ profile: 'pkcs11' });
await hsm.activate('so-pin-0000');
await hsm.login('so', 'so-pin-0000');
await hsm.users.create('user', 'user-pin-0');
hsm.logout();
await hsm.login('user', 'user-pin-0');
const value = crypto.randomBytes(32);
const key = await hsm.keys.importSecret(value, { type: 'aes', encrypt: true, decrypt: true });

async function timed(make) {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 25);
  const t = performance.now();
  await pipeline(source(), make(), sink());
  clearInterval(timer);
  return { mibs: MIB / ((performance.now() - t) / 1000), rss: (peak - rss0) / 2 ** 20 };
}

console.log(`\n${MIB} MiB streamed (1 MiB writes), best of ${ROUNDS}`);
for (const [name, ours, theirs] of [
  ['AES-256-GCM', () => key.encryptStream({ name: 'AES_GCM', iv: crypto.randomBytes(12) }), () => crypto.createCipheriv('aes-256-gcm', value, crypto.randomBytes(12))],
  ['AES-256-CBC-PAD', () => key.encryptStream({ name: 'AES_CBC_PAD', iv: crypto.randomBytes(16) }), () => crypto.createCipheriv('aes-256-cbc', value, crypto.randomBytes(16))],
]) {
  let a = { mibs: 0, rss: 0 }, b = { mibs: 0, rss: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const x = await timed(ours);
    const y = await timed(theirs);
    if (x.mibs > a.mibs) a = x;
    if (y.mibs > b.mibs) b = y;
  }
  console.log(`${`${name} stream`.padEnd(24)} sealhsm ${a.mibs.toFixed(0)} MiB/s (peak RSS +${a.rss.toFixed(0)} MiB), node ${b.mibs.toFixed(0)} MiB/s (+${b.rss.toFixed(0)} MiB), ratio ${(a.mibs / b.mibs).toFixed(2)}x`);
}
hsm.close();
