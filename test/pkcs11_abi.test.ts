// test/pkcs11_abi.test.ts — builds the C programs in test/c with the system C compiler and runs each
// against sealhsm-pkcs11.so: the ABI contract a C caller relies on (abi_test.c), hostile inputs
// (hardening_test.c), and what AWS's CloudHSM sample programs do (cloudhsm_samples_test.c). Each
// program prints "ok - ..." lines and "N passed, M failed".
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

import { SealHsm } from '../src/index.js';
import { MODULE, configure } from './helpers/module.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A cloudhsm-profile token directory with crypto user cu1 (password cu1-password). */
async function cloudToken(dir: string): Promise<void> {
  const hsm = await SealHsm.open({ dir, create: true });
  await hsm.activate('admin-password');
  await hsm.login('admin', 'admin-password');
  await hsm.users.create('cu1', 'cu1-password');
  hsm.close();
}

/** Compiles test/c/<name>.c, runs it on the module with this configuration, and expects no failure. */
function runC(name: string, conf: string, base: string, libs: string[]): void {
  const exe = join(base, name);
  execFileSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', `-I${root}native/include`, `${root}test/c/${name}.c`, '-o', exe, '-ldl', ...libs]);
  let out: string;
  try {
    out = execFileSync(exe, [MODULE], { encoding: 'utf8', env: { ...process.env, SEALHSM_PKCS11_CONF: conf } });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout);
  }
  expect(out.split('\n').filter((l) => l.startsWith('not ok'))).toEqual([]);
  expect(out).toMatch(/^(\d+) passed, 0 failed$/m);
}

it('the PKCS#11 ABI contract holds from C', async () => {
  const { conf, base } = configure(['slot memory profile=pkcs11 label=abi', 'slot $BASE/cloud profile=cloudhsm label=cloud']);
  await cloudToken(join(base, 'cloud'));
  runC('abi_test', conf, base, ['-lpthread']);
});

it('operations begin and end as §5.2 says: a failed update or final ends its operation, mixing single- and multi-part calls is CKR_OPERATION_ACTIVE and ends nothing', () => {
  const { conf, base } = configure(['slot memory profile=pkcs11 label=operations']);
  runC('operations_test', conf, base, ['-lcrypto']);
});

it('hostile inputs through the C ABI: 4 GiB of AAD, a wrapping PSS salt length, nested templates, misaligned parameters', () => {
  const { conf, base } = configure(['slot memory profile=pkcs11 label=hardening']);
  runC('hardening_test', conf, base, ['-lcrypto']);
}, 120_000);

it('what AWS\'s CloudHSM samples do: X9.31 RSA keys, GCM wrap with the IV written back, ZERO_PAD private-key unwrap, SP 800-108, the find count', async () => {
  const { conf, base } = configure(['slot $BASE/cloud profile=cloudhsm label=samples']);
  await cloudToken(join(base, 'cloud'));
  runC('cloudhsm_samples_test', conf, base, ['-lcrypto']);
}, 120_000);
