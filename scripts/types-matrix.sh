#!/usr/bin/env bash
# scripts/types-matrix.sh — run by .ci/run: the published declarations (dist/*.d.ts) compile in a
# consumer with skipLibCheck false, no DOM lib, under @types/node 20, 22, 24 and latest, each with
# TypeScript 5.9 and TypeScript 7 (the native compiler), as an ES module and as a CommonJS project
# (module nodenext: TypeScript 5.8+ lets it `require` an ES module, as Node >= 20.19 does).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/index.ts" <<'TS'
import { SealHsm, signJwt, createJwks, startKmsServer, type HsmCryptoKey, type KeyHandle } from 'sealhsm';
export async function use(): Promise<string> {
  const hsm = SealHsm.memory();
  const pair = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'], { token: false });
  const key: HsmCryptoKey = await hsm.subtle.fromHandle(hsm.subtle.handleOf(pair.privateKey));
  const handle: KeyHandle = key.handle;
  const jwks = await createJwks([pair.publicKey]);
  const csr = await hsm.pki.createCsr({ keys: pair, subject: { CN: 'x' } });
  const server = await startKmsServer({ hsm, allowUnsigned: true });
  await server.close();
  return `${await signJwt({}, key)} ${jwks.keys.length} ${csr.pem} ${handle.ref}`;
}
TS
for types in 20 22 24 latest; do
  dir="$work/types-$types"
  mkdir -p "$dir"
  cp "$work/index.ts" "$dir/index.ts"
  (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund "@types/node@$types" ts59@npm:typescript@~5.9 ts7@npm:typescript@7 >/dev/null)
  ln -s "$root" "$dir/node_modules/sealhsm"
  for mod in esm cjs; do
    if [ "$mod" = esm ]; then type=module; else type=commonjs; fi; module=NodeNext
    node -e "const p=require('$dir/package.json');p.type='$type';require('fs').writeFileSync('$dir/package.json',JSON.stringify(p))"
    printf '{"compilerOptions":{"target":"ES2022","module":"%s","moduleResolution":"%s","lib":["ES2022"],"types":["node"],"strict":true,"noEmit":true,"skipLibCheck":false},"files":["index.ts"]}' "$module" "$module" > "$dir/tsconfig.json"
    for ts in ts59 ts7; do
      (cd "$dir" && node "node_modules/$ts/bin/tsc" -p .) || { echo "types: @types/node@$types, $ts, $mod: errors above" >&2; exit 1; }
      echo "types: @types/node@$types ($(node -p "require('$dir/node_modules/@types/node/package.json').version")), $ts ($(node -p "require('$dir/node_modules/$ts/package.json').version")), $mod: ok"
    done
  done
done
