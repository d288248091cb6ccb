// examples/encrypt-file.mjs [file] — a file of any size encrypted under a key that never leaves the
// HSM, in constant memory (`node examples/encrypt-file.mjs big.iso`; without a file it makes a
// 64 MiB one in a temporary directory).
// The file streams through one multi-part AES-256-GCM operation (`key.encryptStream`) into
// <file>.sealed: the 12-byte IV, then the ciphertext, then the 16-byte tag. It is then decrypted
// back with `key.decryptStream`, which lets out plaintext only once the tag verifies, and both
// copies' SHA-256 are compared.

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { SealHsm } from '../dist/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'sealhsm-encrypt-file-'));
let file = process.argv[2];
if (file === undefined) {
  file = join(scratch, 'sample.bin');
  const block = randomBytes(1 << 20);
  await pipeline(async function* () { for (let i = 0; i < 64; i++) yield block; }, createWriteStream(file));
}
const sealed = `${file}.sealed`;

// The pkcs11 profile: CloudHSM does AES-GCM single-part only (and so do the cloudhsm profiles), which
// is why a CloudHSM application streams with CBC or CTR, or encrypts data keys (see the KMS endpoint).
const hsm = SealHsm.memory({ profile: 'pkcs11' });
await hsm.activate('so-pin-0000');
await hsm.login('so', 'so-pin-0000');
await hsm.users.create('user', 'user-pin-0');
hsm.logout();
await hsm.login('user', 'user-pin-0');
const key = await hsm.keys.generateAes({ bits: 256, label: 'file-key' }); // not extractable: it stays in the HSM

/** A sink that hashes what reaches it. */
function hashing(hash) {
  return new Writable({ write(chunk, _encoding, done) { hash.update(chunk); done(); } });
}

// Encrypt: the IV first, then the stream's output.
const started = performance.now();
const encrypt = key.encryptStream({ name: 'AES_GCM' });
const out = createWriteStream(sealed);
out.write(encrypt.iv);
const plainHash = createHash('sha256');
await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }).on('data', (d) => plainHash.update(d)), encrypt, out);
const seconds = (performance.now() - started) / 1000;
const mib = statSync(file).size / 2 ** 20;
console.log(`encrypted ${mib.toFixed(0)} MiB into ${sealed} at ${(mib / seconds).toFixed(0)} MiB/s`);

// Decrypt: read the IV back, stream the rest.
const fd = openSync(sealed, 'r');
const iv = Buffer.alloc(12);
readSync(fd, iv, 0, 12, 0);
closeSync(fd);
const backHash = createHash('sha256');
await pipeline(createReadStream(sealed, { start: 12, highWaterMark: 1 << 20 }), key.decryptStream({ name: 'AES_GCM', iv }), hashing(backHash));
const same = plainHash.digest('hex') === backHash.digest('hex');
console.log(`round trip: ${same ? 'identical' : 'DIFFERENT'}`);

// A flipped byte anywhere fails the tag, and no plaintext comes out.
const tampered = join(scratch, 'tampered.sealed');
copyFileSync(sealed, tampered);
const t = openSync(tampered, 'r+');
const b = Buffer.alloc(1);
readSync(t, b, 0, 1, 100);
b[0] ^= 1;
writeSync(t, b, 0, 1, 100);
closeSync(t);
let released = 0;
const outcome = await pipeline(createReadStream(tampered, { start: 12 }), key.decryptStream({ name: 'AES_GCM', iv }),
  new Writable({ write(chunk, _e, done) { released += chunk.length; done(); } })).then(() => 'accepted', (e) => e.code ?? e.message);
console.log(`a flipped byte: ${outcome}, ${released} bytes of plaintext released`);

hsm.close();
rmSync(scratch, { recursive: true, force: true });
if (process.argv[2] === undefined) rmSync(sealed, { force: true });
