// test/published_types.test.ts — the published declarations (dist/*.d.ts) compile in a consumer
// project that has only ES2022 and @types/node (no DOM lib) with skipLibCheck false: nothing public
// pulls in webcrypto-core's or pkijs' declarations, which need the DOM lib.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it('the public types compile without the DOM lib and with skipLibCheck false', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealhsm-consumer-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'sealhsm'));
    symlinkSync(join(root, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: ['node'], strict: true, noEmit: true, skipLibCheck: false },
      files: ['index.ts'],
    }));
    writeFileSync(join(dir, 'index.ts'), [
      "import { SealHsm, signJwt, verifyJwt, createJwks, type HsmCryptoKey, type KeyHandle } from 'sealhsm';",
      'const hsm = SealHsm.memory();',
      "const pair = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'], { token: false });",
      'const key: HsmCryptoKey = await hsm.subtle.fromHandle(hsm.subtle.handleOf(pair.privateKey));',
      "const sig: ArrayBuffer = await hsm.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new Uint8Array(1));",
      'const jwks = await createJwks([pair.publicKey]);',
      "const { payload } = await verifyJwt(await signJwt({ a: 1 }, key), jwks, { algorithms: ['ES256'] });",
      "const csr = await hsm.pki.createCsr({ keys: pair, subject: { CN: 'x' } });",
      'const certs = await hsm.certificates.list();',
      'const h: KeyHandle = key.handle;',
      'console.log(sig, payload, csr.pem, certs.length, h.ref);',
    ].join('\n'));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = (() => {
      try {
        return execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
      } catch (e) {
        return `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}` || String(e);
      }
    })();
    expect(out).toBe('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
