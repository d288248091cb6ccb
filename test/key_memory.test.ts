// test/key_memory.test.ts
// Issue "harden the seal", key memory: keys share locked, undumped 64 KiB chunks instead of a page
// each, so thousands fit under RLIMIT_MEMLOCK; when the limit refuses, the memory is still used,
// counted as unlocked, and one warning says how to raise the limit.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/key_memory.mjs', import.meta.url));

function run(count: number, lockLimitKiB?: number) {
  // As root, mlock ignores the limit unless CAP_IPC_LOCK is dropped too.
  const drop = process.getuid?.() === 0 ? 'setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock -- ' : '';
  const cmd = lockLimitKiB === undefined ? `exec "${process.execPath}" "${fixture}" ${count}`
    : `ulimit -l ${lockLimitKiB} && exec ${drop}"${process.execPath}" "${fixture}" ${count}`;
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return { memory: JSON.parse(r.stdout) as { lockedBytes: number; unlockedBytes: number; inUseBytes: number }, stderr: r.stderr };
}

describe('key memory', () => {
  it('3,000 AES keys fit in a few locked 64 KiB chunks (a page each before: 12 MiB)', () => {
    const { memory, stderr } = run(3000);
    expect(memory.inUseBytes).toBeGreaterThanOrEqual(3000 * 32);
    expect(memory.lockedBytes + memory.unlockedBytes).toBeLessThanOrEqual(256 * 1024);
    expect(stderr).toBe('');
  });

  it('when RLIMIT_MEMLOCK refuses, keys still work, the bytes count as unlocked, and one warning names the fix', () => {
    const { memory, stderr } = run(50, 0);
    expect(memory.lockedBytes).toBe(0);
    expect(memory.unlockedBytes).toBeGreaterThan(0);
    expect(stderr.match(/key memory could not be locked/g)).toHaveLength(1);
    expect(stderr).toContain('ulimit -l');
  });
});
