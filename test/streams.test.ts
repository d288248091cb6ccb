// test/streams.test.ts
// key.encryptStream / decryptStream (issue: performance, the streaming path): byte for byte what
// node:crypto's own streams make, any write sizes, constant memory over hundreds of MiB, the GCM
// tag checked at the end, and the stream's session let go however it ends.

import * as crypto from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';

import type { KeyHandle, SealHsm } from '../src/index.js';
import { cryptoUser } from './helpers/hsm.js';

const hsm: SealHsm = await cryptoUser('pkcs11');
afterAll(() => hsm.close());
const value = crypto.randomBytes(32);
const key: KeyHandle = await hsm.keys.importSecret(value, { type: 'aes', encrypt: true, decrypt: true });

/** `total` bytes of a deterministic pattern, in pieces of `piece` bytes. */
function source(total: number, piece: number, seed = 1): Readable {
  let sent = 0;
  const block = crypto.createHash('sha512').update(String(seed)).digest();
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(piece, total - sent);
      const b = Buffer.allocUnsafe(n);
      // Byte p of the whole stream is block[p % 64], whatever the piece size.
      for (let i = 0; i < n; ) {
        const at = (sent + i) % 64;
        i += block.copy(b, i, at, Math.min(64, at + n - i));
      }
      sent += n;
      this.push(b);
    },
  });
}

/** A sink that keeps only a SHA-256 of what it is given, and its length. */
function digestSink(): Writable & { result(): { hex: string; length: number } } {
  const h = crypto.createHash('sha256');
  let length = 0;
  const w = new Writable({
    write(chunk: Buffer, _e, done) {
      h.update(chunk);
      length += chunk.length;
      done();
    },
  }) as Writable & { result(): { hex: string; length: number } };
  w.result = () => ({ hex: h.digest('hex'), length });
  return w;
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

describe('streams equal node:crypto', () => {
  const iv16 = crypto.randomBytes(16);
  for (const [name, mech, nodeCipher] of [
    ['AES-CBC-PAD', { name: 'AES_CBC_PAD', iv: iv16 }, () => crypto.createCipheriv('aes-256-cbc', value, iv16)],
    ['AES-CTR', { name: 'AES_CTR', iv: iv16 }, () => crypto.createCipheriv('aes-256-ctr', value, iv16)],
  ] as const) {
    it(`${name}: 3 MiB + 5 B in odd pieces, both ways`, async () => {
      const total = 3 * (1 << 20) + 5;
      const ours = digestSink();
      await pipeline(source(total, 77_777), key.encryptStream(mech, { chunkSize: 300_000 }), ours);
      const theirs = digestSink();
      await pipeline(source(total, 1 << 16), nodeCipher(), theirs);
      expect(ours.result()).toEqual(theirs.result());

      const data = await collect(source(200_003, 4099));
      const ct = await collect(Readable.from([data]).pipe(key.encryptStream(mech)));
      const pt = await collect(Readable.from([ct.subarray(0, 17), ct.subarray(17)]).pipe(key.decryptStream(mech, { chunkSize: 16 })));
      expect(pt.equals(data)).toBe(true);
    });
  }

  it('AES-GCM: a random IV when none is given, the tag last; decrypts, and a changed tag fails at the end', async () => {
    const data = await collect(source(5 * (1 << 20) + 3, 1 << 16));
    const aad = Buffer.from('stream aad');
    const enc = key.encryptStream({ name: 'AES_GCM', aad });
    const ct = await collect(Readable.from([data]).pipe(enc));
    const iv = enc.iv!;
    expect(iv.length).toBe(12);
    const c = crypto.createCipheriv('aes-256-gcm', value, iv).setAAD(aad);
    expect(ct.equals(Buffer.concat([c.update(data), c.final(), c.getAuthTag()]))).toBe(true);
    expect(key.encryptStream({ name: 'AES_GCM' }).iv!.equals(iv)).toBe(false);

    const pt = await collect(Readable.from([ct]).pipe(key.decryptStream({ name: 'AES_GCM', iv, aad })));
    expect(pt.equals(data)).toBe(true);
    ct[ct.length - 1]! ^= 1;
    await expect(collect(Readable.from([ct]).pipe(key.decryptStream({ name: 'AES_GCM', iv, aad })))).rejects.toMatchObject({ code: 'CKR_ENCRYPTED_DATA_INVALID' });
  });
});

describe('constant memory and clean endings', () => {
  it('512 MiB through AES-CTR grows RSS by far less than the data', async () => {
    const iv = crypto.randomBytes(16);
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const sink = digestSink();
    await pipeline(source(512 * (1 << 20), 1 << 20, 7), key.encryptStream({ name: 'AES_CTR', iv }), sink);
    clearInterval(timer);
    expect(sink.result().length).toBe(512 * (1 << 20));
    expect(peak - before).toBeLessThan(160 * (1 << 20));
  }, 120_000);

  it('a stream destroyed midway, or refused at its first chunk, leaves no operation behind', async () => {
    const s = key.encryptStream({ name: 'AES_CBC', iv: crypto.randomBytes(16) }, { chunkSize: 1024 });
    s.write(Buffer.alloc(4096));
    await new Promise((r) => setTimeout(r, 20));
    s.destroy();
    // A CBC stream without padding must end on a block boundary: the refusal reaches the caller.
    const odd = key.encryptStream({ name: 'AES_CBC', iv: crypto.randomBytes(16) });
    await expect(collect(Readable.from([Buffer.alloc(33)]).pipe(odd))).rejects.toMatchObject({ code: 'CKR_DATA_LEN_RANGE' });
    // The key still works for one-shot calls and new streams afterwards.
    const again = await collect(Readable.from([Buffer.from('after')]).pipe(key.encryptStream({ name: 'AES_CTR', iv: Buffer.alloc(16) })));
    expect(again.length).toBe(5);
    expect(() => key.encryptStream(undefined, { chunkSize: 3 })).toThrow(RangeError);
  });
});
