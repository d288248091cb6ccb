// bench/store_writes.mjs — part of `npm run bench`: what durability and other processes' writes cost.
//
// 1. Sequential token-key creation with synchronous=FULL (the default: an acknowledged key survives
//    power loss) beside synchronous=NORMAL (survives a crashed process), interleaved, best of 3.
// 2. ECDSA P-256 signing on a persistent token while another process creates a token key every
//    BENCH_WRITE_MS (default 2) ms in it, beside the same signing while that process writes as much
//    to another token (the same CPU taken, none of the effect): each foreign write now drops only
//    the objects it changed from this process's cache (before: every key it was using).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SealHsm } from '../dist/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const base = mkdtempSync(join(tmpdir(), 'sealhsm-bench-'));

async function token(name, synchronous) {
  const hsm = await SealHsm.open({ dir: join(base, name), create: true, profile: 'pkcs11', synchronous });
  await hsm.activate('so-pin-0000');
  await hsm.login('so', 'so-pin-0000');
  await hsm.users.create('user', 'user-pin-0');
  hsm.logout();
  await hsm.login('user', 'user-pin-0');
  return hsm;
}

const full = await token('full', 'full');
const normal = await token('normal', 'normal');
(await token('other', 'full')).close();
const rate = async (hsm) => {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  while (performance.now() < end) {
    await hsm.keys.generateAes({ token: true, bits: 128 });
    n++;
  }
  return n / SECONDS;
};
let best = [0, 0];
for (let r = 0; r < 3; r++) best = [Math.max(best[0], await rate(full)), Math.max(best[1], await rate(normal))];
console.log(`\ntoken keys, one at a time   synchronous=FULL ${Math.round(best[0])}/s, NORMAL ${Math.round(best[1])}/s, ratio ${(best[0] / best[1]).toFixed(2)}`);
normal.close();

const [signer] = [(await full.keys.generateEc({ curve: 'secp256r1', token: true, label: 'signer' })).privateKey];
const data = Buffer.alloc(64, 1);
const signs = async () => {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (performance.now() < end) {
      await signer.sign(data);
      n++;
    }
  }));
  return n / SECONDS;
};
const writerCode = (dir) => `
  import('${new URL('../dist/index.js', import.meta.url).href}').then(async ({ SealHsm }) => {
    const hsm = await SealHsm.open({ dir: ${JSON.stringify(dir)} });
    await hsm.login('user', 'user-pin-0');
    let n = 0;
    const timer = setInterval(() => hsm.keys.generateAes({ token: true, bits: 128 }).then(() => n++), ${Number(process.env.BENCH_WRITE_MS ?? 2)});
    process.on('message', () => { clearInterval(timer); process.send(n); setTimeout(() => process.exit(0), 50); });
    process.send('ready');
  });`;
async function withWriter(dir) {
  const writer = spawn(process.execPath, ['--input-type=module', '-e', writerCode(dir)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve) => writer.once('message', resolve));
  const rate = await signs();
  writer.send('stop');
  const writes = await new Promise((resolve) => writer.once('message', resolve));
  return [rate, writes];
}
best = [0, 0];
let writes = 0;
for (let r = 0; r < 3; r++) {
  const [elsewhere] = await withWriter(join(base, 'other'));
  const [here, n] = await withWriter(join(base, 'full'));
  writes += n;
  best = [Math.max(best[0], elsewhere), Math.max(best[1], here)];
}
console.log(`ECDSA P-256 sign, persistent  writer on another token ${Math.round(best[0])}/s, on this token ${Math.round(best[1])}/s, ratio ${(best[1] / best[0]).toFixed(2)} (${Math.round(writes / 3 / SECONDS)} writes/s)`);
full.close();
rmSync(base, { recursive: true, force: true });
