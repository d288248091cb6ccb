// src/bench/backends/softhsm.ts
//
// The 'softhsm' backend: SoftHSMv2 set up for the run, so a workload can put sealhsm beside it with
// no manual steps. A private configuration and token directory under the system's temporary
// directory, one token initialized with softhsm2-util, then the ordinary PKCS#11 backend on it.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian, Ubuntu, Fedora and Homebrew put the library. */
const LIBRARIES = [
  '/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so', '/usr/local/lib/softhsm/libsofthsm2.so', '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

export class SoftHsmMissing extends Error {}

/** A SoftHSMv2 token ready for the PKCS#11 backend, or SoftHsmMissing saying what to install. */
export function softhsmSetup(): { library: string; pin: string } {
  const given = process.env.SEALHSM_SOFTHSM_LIBRARY;
  const library = given !== undefined ? (existsSync(given) ? given : undefined) : LIBRARIES.find((p) => existsSync(p));
  if (library === undefined) {
    throw new SoftHsmMissing(given !== undefined ? `no SoftHSMv2 library at ${given} (SEALHSM_SOFTHSM_LIBRARY)` : 'SoftHSMv2 is not installed (apt-get install softhsm2; or set SEALHSM_SOFTHSM_LIBRARY)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'sealhsm-softhsm-'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf; // read by the library when it is loaded
  const pin = 'bench-user-pin';
  try {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'sealhsm-bench', '--so-pin', 'bench-so-pin', '--pin', pin], { stdio: 'pipe' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SoftHsmMissing('softhsm2-util is not on the PATH (apt-get install softhsm2)');
    throw e;
  }
  return { library, pin };
}
