// test/store_processes.test.ts
// Several processes on one token directory, and a process killed with SIGKILL mid-write, 50 times.

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';

import { SealHsm, native } from '../src/index.js';
import { cleanup, newToken, sql, tempDir } from './helpers/store.js';

afterAll(cleanup);
const run = promisify(execFile);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs a fixture, SIGKILLs it at a random moment (min..min+spread ms) after it prints READY, and
 *  returns everything it printed. */
async function runUntilKilled(args: string[], min: number, spread: number): Promise<string> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let scheduled = false;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('READY\n') && !scheduled) {
        scheduled = true;
        setTimeout(() => child.kill('SIGKILL'), min + Math.floor(Math.random() * spread));
      }
    });
    child.on('exit', () => resolve());
    child.on('error', reject);
  });
  return out;
}

describe('several processes share one token', () => {
  it('two processes create keys at once: none is lost, and each sees the other\'s', async () => {
    const dir = tempDir();
    (await newToken(dir)).close();
    const [a, b] = await Promise.all([
      run(process.execPath, [fixture('worker.mjs'), dir, 'alice', 'alice-key', '40']),
      run(process.execPath, [fixture('worker.mjs'), dir, 'bob', 'bob-key', '40']),
    ]);
    const refs = [...JSON.parse(a.stdout).refs, ...JSON.parse(b.stdout).refs] as number[];
    expect(new Set(refs).size).toBe(80);
    const hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password');
    expect((await hsm.keys.find({ class: 'secret-key' })).length).toBe(40); // alice sees hers, not bob's
    hsm.logout();
    await hsm.login('admin', 'admin-password');
    expect((await hsm.keys.find({ class: 'secret-key' })).length).toBe(80); // admins list every key
    hsm.close();
  });

  it('a write in another process drops only what it changed from this process\'s cache', async () => {
    const dir = tempDir();
    const hsm = await newToken(dir);
    const keys = await Promise.all(Array.from({ length: 5 }, (_, i) => hsm.keys.generateAes({ token: true, label: `cached-${i}` })));
    for (const k of keys) await k.encrypt(Buffer.from('warm'));
    const cached = native.tokenInfo(hsm.slot).objects;
    expect(cached).toBeGreaterThanOrEqual(5);
    await run(process.execPath, [fixture('worker.mjs'), dir, 'alice', 'other', '1']);
    await hsm.keys.find({ label: 'other-0' }); // this call sees the other process's write
    // Before: every foreign write emptied the cache, and each key was read and verified again.
    expect(native.tokenInfo(hsm.slot).objects).toBeGreaterThanOrEqual(cached);
    hsm.close();
  });

  it('a key made or deleted in another process is seen on this process\'s next operation', async () => {
    const dir = tempDir();
    const hsm = await newToken(dir);
    const before = await hsm.keys.find({ label: 'other-0' });
    expect(before).toEqual([]);
    const out = JSON.parse((await run(process.execPath, [fixture('worker.mjs'), dir, 'alice', 'other', '1'])).stdout) as { refs: number[] };
    const [made] = await hsm.keys.find({ label: 'other-0' });
    expect(made?.ref).toBe(out.refs[0]);
    await expect(made!.encrypt(Buffer.from('seen'))).resolves.toBeDefined();
    const mine = await hsm.keys.generateAes({ token: true, label: 'mine' });
    const other = await SealHsm.open({ dir });
    await other.login('alice', 'alice-password');
    await (await other.keys.get(mine.ref)).delete();
    other.close();
    expect(await mine.encrypt(Buffer.from('x')).catch((e: { code?: string }) => e.code)).toBe('CKR_KEY_HANDLE_INVALID');
    hsm.close();
  });
});

describe('crash safety', () => {
  it('50 SIGKILLs at random moments: every returned creation is there and usable, every returned deletion stays deleted', async () => {
    const dir = tempDir();
    (await newToken(dir)).close();
    const live = new Map<number, string>();
    const deleted = new Set<number>();
    let next = 0;
    for (let round = 0; round < 50; round++) {
      const out = await runUntilKilled([fixture('churn.mjs'), dir, String(next)], 20, 120);
      let inFlight: number | undefined; // a deletion that started but was not seen to return
      for (const line of out.split('\n')) {
        const [kind, ref, label] = line.split(' ');
        if (kind === 'C') {
          live.set(Number(ref), label!);
          next = Math.max(next, Number(label!.slice(6)) + 1);
        } else if (kind === 'd') {
          inFlight = Number(ref);
        } else if (kind === 'D') {
          live.delete(Number(ref));
          deleted.add(Number(ref));
          inFlight = undefined;
        }
      }
      const hsm = await SealHsm.open({ dir });
      await hsm.login('alice', 'alice-password');
      const found = new Map((await hsm.keys.find({ class: 'secret-key' })).map((k) => [k.ref, k]));
      if (inFlight !== undefined && !found.has(inFlight)) {
        live.delete(inFlight); // the interrupted deletion went through
        deleted.add(inFlight);
      }
      for (const [ref] of live) expect(found.has(ref), `key ${ref} created before the kill is missing (round ${round})`).toBe(true);
      for (const ref of deleted) expect(found.has(ref), `key ${ref} deleted before the kill is back (round ${round})`).toBe(false);
      for (const k of found.values()) await k.encrypt(Buffer.from('usable')); // every key opens and verifies
      hsm.close();
    }
    expect(live.size).toBeGreaterThan(50);
  }, 600_000);

  it('a key pair is one transaction: 30 SIGKILLs during pair generation leave no half pair', async () => {
    // Five tokens of six rounds each: one token would reach the asymmetric-key quota (3,333) before
    // the last rounds, and a refused create writes nothing for a kill to interrupt.
    for (let token = 0; token < 5; token++) {
      const dir = tempDir();
      (await newToken(dir)).close();
      let made = 0;
      for (let round = 0; round < 6; round++) {
        const out = await runUntilKilled([fixture('churn.mjs'), dir, '0', 'pairs'], 10, 60);
        made += out.split('\n').filter((l) => l.startsWith('P ')).length;
      }
      const publics = Number(sql(dir, 'SELECT count(*) FROM objects WHERE class = 2'));
      const privates = Number(sql(dir, 'SELECT count(*) FROM objects WHERE class = 3'));
      expect(privates).toBeGreaterThanOrEqual(made);
      expect(privates).toBeLessThan(3_333 / 2); // no round ran into the quota
      expect(publics).toBe(privates);
    }
  }, 300_000);

  it('the key quota holds across processes: 4 processes filling an hsm1 token stop at exactly 3,300 keys', async () => {
    const dir = tempDir();
    (await newToken(dir, 'cloudhsm-hsm1')).close();
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => run(process.execPath, [fixture('fill.mjs'), dir, `p${i}`, '900'])));
    const made = results.map((r) => JSON.parse(r.stdout) as { made: number; refused: string[] });
    expect(made.reduce((n, r) => n + r.made, 0)).toBe(3300);
    expect(new Set(made.flatMap((r) => r.refused))).toEqual(new Set(['CKR_DEVICE_MEMORY']));
    expect(Number(sql(dir, 'SELECT count(*) FROM objects'))).toBe(3300);
  }, 300_000);
});

describe('the store pool', () => {
  it('a process exits cleanly right after its last store write (24 runs, 4 at a time)', async () => {
    // A pool thread used to release the wake-up function after the environment had freed it: an
    // abort at exit about one run in ten.
    const dir = tempDir();
    (await newToken(dir)).close();
    for (let batch = 0; batch < 6; batch++) {
      const runs = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => run(process.execPath, [fixture('worker.mjs'), dir, 'alice', `exit-${batch}-${i}`, '1'])));
      expect(runs.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    }
  }, 120_000);

  it('worker threads write one token beside the main thread, and each exits when its work is done', async () => {
    const dir = tempDir();
    const hsm = await newToken(dir);
    const workers = ['w1', 'w2'].map((prefix) => new Worker(fixture('worker.mjs'), { argv: [dir, 'alice', prefix, '40'], stdout: true }));
    const mine = await Promise.all(Array.from({ length: 40 }, (_, i) => hsm.keys.generateAes({ token: true, label: `main-${i}` })));
    const codes = await Promise.all(workers.map((w) => new Promise<number>((resolve) => w.on('exit', resolve))));
    expect(codes).toEqual([0, 0]);
    expect(mine).toHaveLength(40);
    for (const prefix of ['w1', 'w2', 'main']) {
      for (let i = 0; i < 40; i++) expect(await hsm.keys.find({ label: `${prefix}-${i}` })).toHaveLength(1);
    }
    hsm.close();
  }, 120_000);
});
