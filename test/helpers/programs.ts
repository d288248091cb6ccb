// test/helpers/programs.ts — optional external programs. A test that needs one is skipped, naming the
// Debian package to install, when the program is missing; with SEALHSM_REQUIRE_OPTIONAL=1 (set by
// .ci/run) a missing program is a failure instead, so CI runs every test.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function missing(what: string, debianPackage: string): false {
  if (process.env.SEALHSM_REQUIRE_OPTIONAL === '1') {
    throw new Error(`${what} is required here (SEALHSM_REQUIRE_OPTIONAL=1): apt-get install ${debianPackage}`);
  }
  console.warn(`skipping the tests that need ${what}: apt-get install ${debianPackage}`);
  return false;
}

/** True when `command` is on PATH; otherwise skip (or, in CI, fail) naming the package. */
export function hasProgram(command: string, debianPackage: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return missing(command, debianPackage);
  }
}

/** True when the file exists (a plugin such as OpenSSL's PKCS#11 engine); as hasProgram otherwise. */
export function hasFile(path: string, debianPackage: string): boolean {
  return existsSync(path) || missing(path, debianPackage);
}
