// test/core_dump.test.ts
// Issue "harden the seal", key bytes in memory: after keys are imported, used, stored, read back,
// deleted and the token closed, the process memory in a core dump (gdb's gcore) holds none of the
// RSA private components, the EC scalar, the Ed25519 seed or the halves of its SHA-512 (the signing
// scalar and the nonce key, which libsodium and OpenSSL compute on every signature), or the unseal
// key. (The dump's register notes can hold the last bytes a thread copied in its vector registers;
// README says so.) Key memory is MADV_DONTDUMP and wiped; imports go to the token as one PKCS#8
// blob we wipe; the unseal key never sits in a pooled Buffer.

import { execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { hasProgram } from './helpers/programs.js';
import { cleanup, tempDir } from './helpers/store.js';

afterAll(cleanup);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const gcore = hasProgram('gcore', 'gdb');

/** The process memory in an ELF64 core file: its PT_LOAD segments (not the notes, which hold each
 *  thread's registers). */
function memorySegments(core: Buffer): Buffer[] {
  let count = core.readUInt16LE(0x38);
  const phoff = Number(core.readBigUInt64LE(0x20));
  if (count === 0xffff) count = core.readUInt32LE(Number(core.readBigUInt64LE(0x28)) + 0x2c); // PN_XNUM: sh_info of section 0
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const at = phoff + i * 56;
    if (core.readUInt32LE(at) !== 1) continue; // PT_LOAD
    const offset = Number(core.readBigUInt64LE(at + 8));
    const size = Number(core.readBigUInt64LE(at + 32));
    if (size > 0) out.push(core.subarray(offset, offset + size));
  }
  return out;
}

describe('no key bytes in a core dump', () => {
  it.skipIf(!gcore)('RSA d, p, q, the EC scalar, the Ed25519 seed and its scalar, and the unseal key are not in the dump after delete and close', async () => {
    const dir = tempDir();
    const base = join(dir, '..');
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const ed = crypto.generateKeyPairSync('ed25519').privateKey;
    const unseal = crypto.randomBytes(32);
    writeFileSync(join(base, 'rsa.pem'), rsa.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(base, 'ec.pem'), ec.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(base, 'ed.pem'), ed.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(base, 'unseal.key'), unseal.toString('hex'));
    const child = spawn(process.execPath, ['--expose-gc', fixture('dump_child.mjs'), dir, join(base, 'rsa.pem'), join(base, 'ec.pem'), join(base, 'unseal.key'), join(base, 'ed.pem')],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('DONE') && resolve());
        child.on('exit', (code) => reject(new Error(`the child exited with ${code}`)));
      });
      const core = join(base, 'core');
      execFileSync('gcore', ['-o', core, String(child.pid)], { stdio: 'ignore' });
      const file = readFileSync(`${core}.${child.pid}`);
      rmSync(`${core}.${child.pid}`);
      const segments = memorySegments(file);
      const jwk = rsa.export({ format: 'jwk' });
      const expanded = crypto.createHash('sha512').update(Buffer.from(ed.export({ format: 'jwk' }).d!, 'base64url')).digest();
      const part = (b64: string | undefined) => Buffer.from(b64!, 'base64url').subarray(8, 40); // 32 bytes from inside
      const needles: Array<[string, Buffer]> = [
        ['RSA d', part(jwk.d)], ['RSA p', part(jwk.p)], ['RSA q', part(jwk.q)], ['RSA dp', part(jwk.dp)], ['RSA qi', part(jwk.qi)],
        ['EC scalar', part(ec.export({ format: 'jwk' }).d)], ['unseal key', unseal],
        ['Ed25519 seed', Buffer.from(ed.export({ format: 'jwk' }).d!, 'base64url')],
        // Bytes 1-30 and 33-62: clear of the bits clamping changes.
        ['Ed25519 scalar', expanded.subarray(1, 31)], ['Ed25519 nonce key', expanded.subarray(33, 63)],
      ];
      expect(segments.reduce((n, s) => n + s.length, 0)).toBeGreaterThan(1 << 20);
      for (const [name, bytes] of needles) expect(segments.some((s) => s.includes(bytes)), `${name} found in the process memory`).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
