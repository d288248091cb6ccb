// test/helpers/programs.ts — optional external programs. A test that needs one is skipped, naming the
// Debian package to install, when the program is missing; with SEALHSM_REQUIRE_OPTIONAL=1 (set by
// .ci/run) a missing program is a failure instead, so CI runs every test.
import { execFileSync } from 'node:child_process';

export function hasProgram(command: string, debianPackage: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.SEALHSM_REQUIRE_OPTIONAL === '1') {
      throw new Error(`${command} is required here (SEALHSM_REQUIRE_OPTIONAL=1): apt-get install ${debianPackage}`);
    }
    console.warn(`skipping tests that need ${command}: apt-get install ${debianPackage}`);
    return false;
  }
}
