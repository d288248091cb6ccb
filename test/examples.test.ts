// test/examples.test.ts — the README's examples run and print what the README says they print.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

import { hasProgram } from './helpers/programs.js';

const run = (name: string, ...args: string[]) =>
  execFileSync(process.execPath, [fileURLToPath(new URL(`../examples/${name}`, import.meta.url)), ...args], { encoding: 'utf8' });

it('examples/cloudhsm-quickstart.mjs (npm start) runs', () => {
  const out = run('cloudhsm-quickstart.mjs');
  expect(out).toContain('verifies in the HSM: true');
  expect(out).toContain('verifies in node:crypto: true');
  expect(out).toContain('decrypted: a secret note');
  expect(out).toContain('bob signs with the shared key: true');
  expect(out).toContain('bob deleting it: CKR_ACTION_PROHIBITED');
  expect(out).toContain('reading the private key: refused (CKR_ATTRIBUTE_SENSITIVE)');
  expect(out).toContain('wrapping the unextractable private key: refused (CKR_KEY_UNEXTRACTABLE)');
  expect(out).not.toContain('LEAKED');
});

it('examples/binding.mjs runs', () => {
  const out = run('binding.mjs');
  expect(out).toContain('signature verifies in node:crypto: true');
  expect(out).toContain('AES-256-GCM round trip: a secret note');
  expect(out).toContain('reading the AES key value: refused (CKR_ATTRIBUTE_SENSITIVE)');
  expect(out).toContain('wrapping the private key: refused (CKR_KEY_UNEXTRACTABLE)');
});

it('examples/encrypt-file.mjs streams a file through AES-GCM in the HSM and back, and a flipped byte releases nothing', () => {
  const out = run('encrypt-file.mjs');
  expect(out).toMatch(/encrypted 64 MiB into .*sample\.bin\.sealed at \d+ MiB\/s/);
  expect(out).toContain('round trip: identical');
  expect(out).toContain('a flipped byte: CKR_ENCRYPTED_DATA_INVALID, 0 bytes of plaintext released');
}, 60_000);

it('examples/jwt-service.mjs provisions a token once, then issues JWTs and serves its certificate from it', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sealhsm-jwt-example-')), 'token');
  try {
    const first = run('jwt-service.mjs', dir, '--self-test');
    expect(first).toContain(`provisioned a new token in ${dir}`);
    expect(first).toContain('token for user-17, valid for 600 s, verified against the JWKS');
    expect(first).toContain('certificate: O=Example, CN=jwt-service.example');
    const kid = /signing key (\S+)/.exec(first)![1];
    const second = run('jwt-service.mjs', dir, '--self-test');
    expect(second).not.toContain('provisioned');
    expect(second).toContain(`signing key ${kid}`);
    expect(second).toContain('verified against the JWKS');
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

it.skipIf(!hasProgram('openssl', 'openssl'))('examples/pki.mjs writes a CA, CSR, certificate, CRL and CMS signature that OpenSSL accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealhsm-pki-example-'));
  try {
    const out = run('pki.mjs', dir);
    const commands = out.split('\n').filter((l) => l.startsWith('  openssl ')).map((l) => l.trim().split(' ').slice(1));
    expect(commands).toHaveLength(4);
    for (const args of commands) execFileSync('openssl', args, { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
