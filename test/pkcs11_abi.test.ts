// test/pkcs11_abi.test.ts — builds test/c/abi_test.c with the system C compiler and runs it against
// sealhsm-pkcs11.so: the ABI contract a C caller relies on (see the C file for the list).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

import { SealHsm } from '../src/index.js';
import { MODULE, configure } from './helpers/module.js';

it('the PKCS#11 ABI contract holds from C', async () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const { conf, base } = configure(['slot memory profile=pkcs11 label=abi', 'slot $BASE/cloud profile=cloudhsm label=cloud']);
  const hsm = await SealHsm.open({ dir: join(base, 'cloud'), create: true });
  await hsm.activate('admin-password');
  await hsm.login('admin', 'admin-password');
  await hsm.users.create('cu1', 'cu1-password');
  hsm.close();
  const exe = join(base, 'abi_test');
  execFileSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', `-I${root}native/include`, `${root}test/c/abi_test.c`, '-o', exe, '-ldl', '-lpthread']);
  let out: string;
  try {
    out = execFileSync(exe, [MODULE], { encoding: 'utf8', env: { ...process.env, SEALHSM_PKCS11_CONF: conf } });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout);
  }
  expect(out.split('\n').filter((l) => l.startsWith('not ok'))).toEqual([]);
  expect(out).toMatch(/^(\d+) passed, 0 failed$/m);
});

it('hostile inputs through the C ABI: 4 GiB of AAD, a wrapping PSS salt length, nested templates, misaligned parameters', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const { conf, base } = configure(['slot memory profile=pkcs11 label=hardening']);
  const exe = join(base, 'hardening_test');
  execFileSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', `-I${root}native/include`, `${root}test/c/hardening_test.c`, '-o', exe, '-ldl', '-lcrypto']);
  let out: string;
  try {
    out = execFileSync(exe, [MODULE], { encoding: 'utf8', env: { ...process.env, SEALHSM_PKCS11_CONF: conf } });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout);
  }
  expect(out.split('\n').filter((l) => l.startsWith('not ok'))).toEqual([]);
  expect(out).toMatch(/^(\d+) passed, 0 failed$/m);
}, 120_000);

it('what AWS\'s CloudHSM samples do: X9.31 RSA keys, GCM wrap with the IV written back, ZERO_PAD private-key unwrap, the find count', async () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const { conf, base } = configure(['slot $BASE/cloud profile=cloudhsm label=samples']);
  const hsm = await SealHsm.open({ dir: join(base, 'cloud'), create: true });
  await hsm.activate('admin-password');
  await hsm.login('admin', 'admin-password');
  await hsm.users.create('cu1', 'cu1-password');
  hsm.close();
  const exe = join(base, 'cloudhsm_samples_test');
  execFileSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', `-I${root}native/include`, `${root}test/c/cloudhsm_samples_test.c`, '-o', exe, '-ldl', '-lcrypto']);
  let out: string;
  try {
    out = execFileSync(exe, [MODULE], { encoding: 'utf8', env: { ...process.env, SEALHSM_PKCS11_CONF: conf } });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout);
  }
  expect(out.split('\n').filter((l) => l.startsWith('not ok'))).toEqual([]);
  expect(out).toMatch(/^(\d+) passed, 0 failed$/m);
}, 120_000);
