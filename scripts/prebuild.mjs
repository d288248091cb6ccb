// scripts/prebuild.mjs — `npm run prebuild`: the binaries the package ships for this platform,
// prebuilds/<platform>-<arch>/: the Node-API addon (prebuildify --napi: one build for every Node
// version with Node-API 8) and the PKCS#11 module beside it. Run by `prepack` on Linux x64, so a
// packed tarball installs with --ignore-scripts and no compiler.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
execFileSync(process.execPath, [join(root, 'node_modules', 'prebuildify', 'bin.js'), '--napi', '--strip', '--target', `node@${process.versions.node}`], { cwd: root, stdio: 'inherit' });
const so = join(root, 'build', 'Release', 'sealhsm-pkcs11.so');
if (!existsSync(so)) throw new Error(`${so} was not built`);
mkdirSync(target, { recursive: true });
copyFileSync(so, join(target, 'sealhsm-pkcs11.so'));
execFileSync('strip', ['--strip-unneeded', join(target, 'sealhsm-pkcs11.so')]);
console.log(`prebuilt into ${target}`);
