// scripts/sodium-gyp.mjs — whether the native build signs Ed25519 with libsodium, asked by binding.gyp.
//
// `define`: SEALHSM_SODIUM when the system has libsodium's headers and static library
// (Debian: libsodium-dev), else nothing. `link`: that libsodium.a, with its symbols kept inside the
// binary (as OpenSSL's are: nothing of it is exported, and no libsodium is needed at run time), or
// nothing. Without it, or with SEALHSM_SODIUM=0 at build time, Ed25519 runs on OpenSSL alone.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { staticLibrary } from './system-lib.mjs';

const what = process.argv[2];

function find() {
  if (process.env.SEALHSM_SODIUM === '0' || process.platform !== 'linux') return null;
  const lib = staticLibrary('libsodium', 'libsodium.a');
  const header = ['/usr/include', '/usr/local/include'].some((d) => existsSync(join(d, 'sodium.h'))); // searched by default
  return lib && header ? { lib } : null;
}

const found = find();
if (what === 'define') {
  process.stdout.write(found ? 'SEALHSM_SODIUM' : '');
} else if (what === 'link') {
  process.stdout.write(found ? `${found.lib} -Wl,--exclude-libs,ALL` : '');
} else {
  throw new Error('usage: node scripts/sodium-gyp.mjs define|link');
}
