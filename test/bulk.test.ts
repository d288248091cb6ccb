// test/bulk.test.ts
// One-shot encryption of bulk data written straight into the output Buffer (issue: performance):
// every size around the 16 KiB line where outputs become Buffers reserved before the call, both
// doors (the queued Promise and the *Sync twin), byte for byte against node:crypto; a failed tag or
// padding releases nothing; a queued call copies its input, so a buffer changed, transferred or
// collected while the call waits changes nothing.

import * as crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

import { CKA, CKM, call, native, secretKeyTemplate } from '../src/index.js';
import { codeOf, importKey, openToken } from './helpers/hsm.js';

const tk = await openToken('bulk');
afterAll(() => tk.close());
const value = crypto.randomBytes(32);
const key = await importKey(tk, secretKeyTemplate(value, 'aes'), [[CKA.ENCRYPT, true], [CKA.DECRYPT, true]]);
const iv12 = crypto.randomBytes(12);
const iv16 = crypto.randomBytes(16);

type Mode = { name: string; mech: { type: number; iv: Buffer; aad?: Buffer; counterBits?: number }; node: (d: Buffer) => Buffer; block?: number };
const aad = Buffer.from('bulk aad');
const modes: Mode[] = [
  {
    name: 'AES-GCM', mech: { type: CKM.AES_GCM, iv: iv12, aad },
    node: (d) => {
      const c = crypto.createCipheriv('aes-256-gcm', value, iv12).setAAD(aad);
      return Buffer.concat([c.update(d), c.final(), c.getAuthTag()]);
    },
  },
  { name: 'AES-CBC-PAD', mech: { type: CKM.AES_CBC_PAD, iv: iv16 }, node: (d) => { const c = crypto.createCipheriv('aes-256-cbc', value, iv16); return Buffer.concat([c.update(d), c.final()]); } },
  { name: 'AES-CBC', block: 16, mech: { type: CKM.AES_CBC, iv: iv16 }, node: (d) => { const c = crypto.createCipheriv('aes-256-cbc', value, iv16).setAutoPadding(false); return Buffer.concat([c.update(d), c.final()]); } },
  { name: 'AES-CTR', mech: { type: CKM.AES_CTR, iv: iv16, counterBits: 128 }, node: (d) => { const c = crypto.createCipheriv('aes-256-ctr', value, iv16); return Buffer.concat([c.update(d), c.final()]); } },
];
const sizes = [0, 15, 16, 16_368, 16_383, 16_384, 16_385, 65_536, 1 << 20];
const doors = {
  queued: { encrypt: native.encrypt, decrypt: native.decrypt },
  sync: {
    encrypt: async (...a: Parameters<typeof native.encryptSync>) => native.encryptSync(...a),
    decrypt: async (...a: Parameters<typeof native.decryptSync>) => native.decryptSync(...a),
  },
};

describe('one-shot bulk encryption equals node:crypto at every size', () => {
  for (const mode of modes) {
    for (const [door, fns] of Object.entries(doors)) {
      it(`${mode.name} through the ${door} door`, async () => {
        for (const raw of sizes) {
          const size = mode.block ? raw - (raw % mode.block) : raw;
          const data = crypto.randomBytes(size);
          const ct = await call(fns.encrypt(tk.session, { ...mode.mech }, key, data));
          expect(Buffer.isBuffer(ct)).toBe(true);
          expect(ct.equals(mode.node(data)), `${mode.name} ${size} B`).toBe(true);
          const pt = await call(fns.decrypt(tk.session, { ...mode.mech }, key, ct));
          expect(Buffer.isBuffer(pt)).toBe(true);
          expect(pt.length).toBe(size);
          expect(pt.equals(data), `${mode.name} ${size} B round trip`).toBe(true);
        }
      }, 60_000);
    }
  }
});

describe('failures release nothing', () => {
  const big = crypto.randomBytes(1 << 20);
  it('a GCM tag that does not verify rejects at 1 MiB, queued and sync', async () => {
    const mech = { type: CKM.AES_GCM, iv: iv12 };
    const ct = await call(native.encrypt(tk.session, mech, key, big));
    ct[ct.length - 1]! ^= 1;
    expect(await codeOf(call(native.decrypt(tk.session, mech, key, ct)))).toBe('CKR_ENCRYPTED_DATA_INVALID');
    expect(() => native.decryptSync(tk.session, mech, key, ct)).toThrow(/CKR_ENCRYPTED_DATA_INVALID/);
  });

  it('bad CBC padding rejects at 1 MiB; a length that is not whole blocks is refused', async () => {
    const mech = { type: CKM.AES_CBC_PAD, iv: iv16 };
    const raw = crypto.createCipheriv('aes-256-cbc', value, iv16).setAutoPadding(false);
    const ct = Buffer.concat([raw.update(big), raw.final()]); // the last block is data, not padding
    expect(await codeOf(call(native.decrypt(tk.session, mech, key, ct)))).toBe('CKR_ENCRYPTED_DATA_INVALID');
    expect(await codeOf(call(native.encrypt(tk.session, { type: CKM.AES_CBC, iv: iv16 }, key, big.subarray(1))))).toBe('CKR_DATA_LEN_RANGE');
  });
});

describe('queued calls and their input', () => {
  it('below 16 KiB the input is copied: overwriting it right after the call does not change the ciphertext', async () => {
    const data = crypto.randomBytes(8 * 1024);
    const copy = Buffer.from(data);
    const mech = { type: CKM.AES_CTR, iv: iv16, counterBits: 128 };
    const pending = call(native.encrypt(tk.session, mech, key, data));
    data.fill(0);
    const ct = await pending;
    const c = crypto.createCipheriv('aes-256-ctr', value, iv16);
    expect(ct.equals(Buffer.concat([c.update(copy), c.final()]))).toBe(true);
  });

  it('a 1 MiB input transferred away, overwritten by its new owner and collected while the call is queued: the ciphertext is of the original bytes', async () => {
    // Calls ahead of it on the pool, so the transfer surely happens before it runs (it used to be
    // read in place: the moved buffer's zeros, or freed memory once collected, went into it).
    const ahead = Array.from({ length: 8 }, (_, i) => call(native.encrypt(tk.session, { type: CKM.AES_GCM, iv: Buffer.alloc(12, 100 + i) }, key, Buffer.alloc(1 << 20, i))));
    const original = crypto.randomBytes(1 << 20);
    const input = new Uint8Array(original);
    const pending = call(native.encrypt(tk.session, { type: CKM.AES_GCM, iv: iv12 }, key, input));
    const moved = structuredClone(input, { transfer: [input.buffer] });
    expect(input.byteLength).toBe(0); // detached
    moved.fill(0);
    (globalThis as { gc?: () => void }).gc?.();
    const [ct] = await Promise.all([pending, ...ahead]);
    const c = crypto.createCipheriv('aes-256-gcm', value, iv12);
    expect(ct.equals(Buffer.concat([c.update(original), c.final(), c.getAuthTag()]))).toBe(true);
  });

  it('bulk inputs nobody else holds still encrypt right', async () => {
    const sources = Array.from({ length: 48 }, (_, i) => crypto.createHash('sha256').update(String(i)).digest());
    const expand = (seed: Buffer) => Buffer.concat(Array.from({ length: 8192 }, () => seed)); // 256 KiB
    const outs = await Promise.all(sources.map((seed, i) => call(native.encrypt(tk.session, { type: CKM.AES_GCM, iv: Buffer.alloc(12, i) }, key, expand(seed)))));
    for (const [i, ct] of outs.entries()) {
      const c = crypto.createCipheriv('aes-256-gcm', value, Buffer.alloc(12, i));
      expect(ct.equals(Buffer.concat([c.update(expand(sources[i]!)), c.final(), c.getAuthTag()]))).toBe(true);
    }
  });

  it('outputs of concurrent calls are distinct Buffers', async () => {
    const data = crypto.randomBytes(64 * 1024);
    const outs = await Promise.all(Array.from({ length: 32 }, (_, i) => call(native.encrypt(tk.session, { type: CKM.AES_GCM, iv: Buffer.alloc(12, i) }, key, data))));
    expect(new Set(outs.map((o) => o.toString('hex'))).size).toBe(32);
    outs[0]!.fill(0);
    expect(outs[1]!.some((b) => b !== 0)).toBe(true);
  });
});

describe('small light calls run inline and keep the Promise contract', () => {
  const small = crypto.randomBytes(32);
  it('settles later, never throws synchronously, and rejects with the same codes', async () => {
    const mech = { type: CKM.AES_GCM, iv: iv12 };
    let settled = false;
    const p = native.encrypt(tk.session, mech, key, small).then((v) => { settled = true; return v; });
    expect(settled).toBe(false); // a Promise, settled after this synchronous code
    const ct = await call(p);
    const c = crypto.createCipheriv('aes-256-gcm', value, iv12);
    expect(ct.equals(Buffer.concat([c.update(small), c.final(), c.getAuthTag()]))).toBe(true);
    ct[0]! ^= 1;
    expect(await codeOf(call(native.decrypt(tk.session, mech, key, ct)))).toBe('CKR_ENCRYPTED_DATA_INVALID');
    expect(await codeOf(call(native.encrypt(tk.session + 1000, mech, key, small)))).toBe('CKR_SESSION_HANDLE_INVALID');
    expect(await codeOf(call(native.encrypt(tk.session, mech, 987654, small)))).toBe('CKR_KEY_HANDLE_INVALID');
    await expect(native.encrypt(tk.session, { type: CKM.AES_GCM, iv: 'not bytes' as unknown as Buffer }, key, small)).rejects.toBeInstanceOf(TypeError);
    const signOnly = await importKey(tk, secretKeyTemplate(value, 'generic'), [[CKA.SIGN, true], [CKA.VERIFY, false]]);
    expect(await codeOf(call(native.verify(tk.session, CKM.SHA256_HMAC, signOnly, small, Buffer.alloc(32))))).toBe('CKR_KEY_FUNCTION_NOT_PERMITTED');
    const mac = await call(native.sign(tk.session, CKM.SHA256_HMAC, signOnly, small));
    expect(mac.equals(crypto.createHmac('sha256', value).update(small).digest())).toBe(true);
  });

  it('a one-shot call while a multi-part operation is active is CKR_OPERATION_ACTIVE, inline too', async () => {
    const s = native.openSession(tk.slot, false);
    await call(native.encryptInit(s, { type: CKM.AES_CBC_PAD, iv: iv16 }, key));
    expect(await codeOf(call(native.encrypt(s, { type: CKM.AES_CBC_PAD, iv: iv16 }, key, small)))).toBe('CKR_OPERATION_ACTIVE');
    native.closeSession(s);
  });

  it('digests inline equal node:crypto; a bare CKM number and { type } are the same mechanism', async () => {
    expect((await call(native.digest(tk.session, CKM.SHA256, small))).equals(crypto.createHash('sha256').update(small).digest())).toBe(true);
    expect((await call(native.digest(tk.session, { type: CKM.SHA512 }, small))).equals(crypto.createHash('sha512').update(small).digest())).toBe(true);
    expect(() => native.digestSync(tk.session, -1 as number, small)).toThrow(RangeError);
  });
});
