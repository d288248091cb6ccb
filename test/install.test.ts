// test/install.test.ts
// Issue "install anywhere" (in part): without its native addon the package fails with a message that
// says what happened and the two ways out, never a bare module path.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('a missing addon is explained, with the two ways out', () => {
  const pkg = mkdtempSync(join(tmpdir(), 'sealhsm-noaddon-'));
  try {
    cpSync(fileURLToPath(new URL('../dist', import.meta.url)), join(pkg, 'dist'), { recursive: true });
    // its dependencies are there (a package installed without its build); the addon is not
    symlinkSync(fileURLToPath(new URL('../node_modules', import.meta.url)), join(pkg, 'node_modules'));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'sealhsm', type: 'module', main: './dist/index.js' }));
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(join(pkg, 'dist/index.js'))})`], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('sealhsm: the native addon was not built');
    expect(r.stderr).toContain('npm rebuild sealhsm');
    expect(r.stderr).toContain('Linux x64 with glibc');
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});

it('every script binding.gyp runs at build time, and what those scripts import, ships in the package', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
  const needed = new Set([...gyp.matchAll(/node (scripts\/[\w-]+\.mjs)/g)].map((m) => m[1]!));
  expect(needed.size).toBeGreaterThan(1);
  for (const script of [...needed]) {
    for (const m of readFileSync(join(root, script), 'utf8').matchAll(/from '\.\/([\w-]+\.mjs)'/g)) needed.add(`scripts/${m[1]}`);
  }
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
  const files = new Set(packed[0]!.files.map((f) => f.path));
  for (const script of needed) expect(files.has(script), `${script} is not in the package`).toBe(true);
}, 60_000);
