// scripts/system-lib.mjs — where this system keeps a library's static archive, for the *-gyp.mjs
// scripts binding.gyp asks: pkg-config's libdir first, then the usual Debian, Fedora and plain
// directories.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** pkg-config's `variable` for `pkg`, or '' when pkg-config or the package is missing. */
export function pkgConfig(pkg, variable) {
  try {
    return execFileSync('pkg-config', [`--variable=${variable}`, pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** The path of `archive` (e.g. libcrypto.a) for package `pkg`, or undefined. */
export function staticLibrary(pkg, archive) {
  const triplet = `${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`;
  return [pkgConfig(pkg, 'libdir'), `/usr/lib/${triplet}`, '/usr/lib64', '/usr/lib'].filter(Boolean).map((d) => join(d, archive)).find(existsSync);
}
