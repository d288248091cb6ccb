// test/core_dump.test.ts
// Issue "harden the seal", key bytes in memory: after keys are imported, used, stored, read back,
// deleted and the token closed, the process memory in a core dump (gdb's gcore) holds none of the
// RSA private components, the EC scalar, the Ed25519 seed or the halves of its SHA-512 (the signing
// scalar and the nonce key, which libsodium and OpenSSL compute on every signature), an AES key, or
// the unseal key — in any form (big-endian, OpenSSL's little-endian limbs, hex, base64; the scan is
// itself tested on planted copies); and while the keys are in use, none but the RSA numbers and the
// Ed25519 seed. (The dump's register notes can hold the last bytes a thread copied in its vector registers;
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

/** Every form a key's bytes take in memory: big-endian (DER, raw), byte-reversed (OpenSSL's BIGNUM
 *  limbs, 32- or 64-bit, on a little-endian machine hold the number least significant byte first),
 *  hex in either case, and base64/base64url (each of the three alignments of a 3-byte group). */
export function forms(bytes: Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [['big-endian', bytes], ['little-endian limbs', Buffer.from(bytes).reverse()]];
  out.push(['hex', Buffer.from(bytes.toString('hex'))], ['HEX', Buffer.from(bytes.toString('hex').toUpperCase())]);
  for (let shift = 0; shift < 3; shift++) {
    const b64 = bytes.subarray(shift).toString('base64');
    const inner = b64.slice(4, Math.max(4, b64.length - 4)); // whole groups away from either end
    if (inner.length >= 16) out.push([`base64 (+${shift})`, Buffer.from(inner)], [`base64url (+${shift})`, Buffer.from(inner.replace(/\+/g, '-').replace(/\//g, '_'))]);
  }
  return out;
}

describe('the scan itself', () => {
  it('finds a planted copy in each form, and nothing in a buffer without one', () => {
    const key = crypto.randomBytes(32);
    const noise = crypto.randomBytes(4096);
    for (const [form, needle] of forms(key)) {
      const planted = Buffer.concat([noise.subarray(0, 1000), needle, noise.subarray(1000)]);
      expect(forms(key).some(([, n]) => planted.includes(n)), form).toBe(true);
    }
    // A BIGNUM as OpenSSL lays it out: 64-bit limbs, least significant first, each little-endian.
    const big = crypto.randomBytes(64);
    const limbs = Buffer.alloc(64);
    for (let i = 0; i < 8; i++) limbs.writeBigUInt64LE(big.readBigUInt64BE(56 - i * 8), i * 8);
    expect(limbs.includes(Buffer.from(big.subarray(8, 40)).reverse())).toBe(true);
    expect(forms(key).some(([, n]) => noise.includes(n))).toBe(false);
  });
});

describe('no key bytes in a core dump', () => {
  for (const stage of ['after delete and close', 'while the keys are in use'] as const) {
    it.skipIf(!gcore)(`${stage === 'after delete and close' ? 'RSA d, p, q, dp, dq, qi, the Ed25519 seed, ' : ''}the EC scalar, the Ed25519 signing scalar and nonce key, an AES key and the unseal key, in every form, are not in the dump ${stage}`, async () => {
      const dir = tempDir();
      const base = join(dir, '..');
      const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const ed = crypto.generateKeyPairSync('ed25519').privateKey;
      const unseal = crypto.randomBytes(32);
      writeFileSync(join(base, 'rsa.der'), rsa.export({ format: 'der', type: 'pkcs8' }));
      writeFileSync(join(base, 'ec.der'), ec.export({ format: 'der', type: 'pkcs8' }));
      writeFileSync(join(base, 'ed.der'), ed.export({ format: 'der', type: 'pkcs8' }));
      writeFileSync(join(base, 'unseal.key'), unseal.toString('hex'));
      const aes = crypto.randomBytes(32);
      writeFileSync(join(base, 'aes.key'), aes);
      const child = spawn(process.execPath, ['--expose-gc', fixture('dump_child.mjs'), dir, join(base, 'rsa.der'), join(base, 'ec.der'), join(base, 'unseal.key'), join(base, 'ed.der'), stage === 'while the keys are in use' ? 'in-use' : 'closed', join(base, 'aes.key')],
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
        // While the keys are in use, an imported RSA key's numbers are OpenSSL 3.0's own copies in
        // ordinary heap (EVP_PKEY_fromdata reads parameters into BN_new numbers; p and q again in its
        // Montgomery caches), and one copy of an imported Ed25519 seed sits in a worker thread's heap
        // (not yet traced): both are gone once the key goes, and scanned for then (README, "The seal").
        const afterUse: Array<[string, Buffer]> = [
          ['RSA d', part(jwk.d)], ['RSA p', part(jwk.p)], ['RSA q', part(jwk.q)], ['RSA dp', part(jwk.dp)], ['RSA dq', part(jwk.dq)], ['RSA qi', part(jwk.qi)],
          ['Ed25519 seed', Buffer.from(ed.export({ format: 'jwk' }).d!, 'base64url')],
        ];
        const needles: Array<[string, Buffer]> = [
          ...(stage === 'after delete and close' ? afterUse : []),
          ['EC scalar', part(ec.export({ format: 'jwk' }).d)], ['unseal key', unseal], ['AES key', aes],
          // Bytes 1-30 and 33-62: clear of the bits clamping changes.
          ['Ed25519 scalar', expanded.subarray(1, 31)], ['Ed25519 nonce key', expanded.subarray(33, 63)],
        ];
        expect(segments.reduce((n, s) => n + s.length, 0)).toBeGreaterThan(1 << 20);
        for (const [name, bytes] of needles) {
          for (const [form, needle] of forms(bytes)) expect(segments.some((s) => s.includes(needle)), `${name} (${form}) found in the process memory`).toBe(false);
        }
      } finally {
        child.kill('SIGKILL');
      }
    }, 120_000);
  }
});
