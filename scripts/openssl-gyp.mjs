// scripts/openssl-gyp.mjs — which OpenSSL the Node addon links, asked by binding.gyp at configure time.
//
// `link`: the system's static libcrypto.a (OpenSSL 3) and the flag that keeps its symbols inside the
// addon, or nothing. `include`: a directory whose
// `openssl/` is the system's headers (a symlink under build/, so it is searched before the copy of
// OpenSSL's headers inside Node's own include directory), or nothing. With both, the addon carries
// its own copy of the system OpenSSL with every symbol hidden: on machines where Node's bundled
// OpenSSL is built without the newest assembly (VAES/AVX-512 AES-GCM here), that is 2-4x faster for
// bulk AES. SEALHSM_OPENSSL=node, or no static library, keeps the OpenSSL inside Node.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { pkgConfig, staticLibrary } from './system-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const what = process.argv[2];

function find() {
  if (process.env.SEALHSM_OPENSSL === 'node' || process.platform !== 'linux') return null;
  const lib = staticLibrary('libcrypto', 'libcrypto.a');
  const includedir = [pkgConfig('libcrypto', 'includedir'), '/usr/include'].filter(Boolean).find((d) => existsSync(join(d, 'openssl', 'opensslv.h')));
  if (!lib || !includedir) return null;
  const major = /#\s*define\s+OPENSSL_VERSION_MAJOR\s+(\d+)/.exec(readFileSync(join(includedir, 'openssl', 'opensslv.h'), 'utf8'));
  if (!major || Number(major[1]) < 3) return null;
  return { lib, includedir };
}

const found = find();
if (what === 'link') {
  process.stdout.write(found ? `${found.lib} -Wl,--exclude-libs,ALL` : '');
} else if (what === 'include') {
  if (found) {
    const dir = join(root, 'build', 'openssl-include');
    mkdirSync(dir, { recursive: true });
    rmSync(join(dir, 'openssl'), { force: true });
    symlinkSync(join(found.includedir, 'openssl'), join(dir, 'openssl'));
    process.stdout.write(dir);
  }
} else {
  throw new Error('usage: node scripts/openssl-gyp.mjs link|include');
}
