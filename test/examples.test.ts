// test/examples.test.ts — the README's quickstart runs and says what the README says it says.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('examples/quickstart.mjs runs', () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL('../examples/quickstart.mjs', import.meta.url))], { encoding: 'utf8' });
  expect(out).toContain('signature verifies in node:crypto: true');
  expect(out).toContain('AES-256-GCM round trip: a secret note');
  expect(out).toContain('reading the AES key value: refused (CKR_ATTRIBUTE_SENSITIVE)');
  expect(out).toContain('wrapping the private key: refused (CKR_KEY_UNEXTRACTABLE)');
});
