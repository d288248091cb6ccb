// test/examples.test.ts — the README's examples run and print what the README says they print.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const run = (name: string) =>
  execFileSync(process.execPath, [fileURLToPath(new URL(`../examples/${name}`, import.meta.url))], { encoding: 'utf8' });

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
