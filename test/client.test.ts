// test/client.test.ts — the client's own contract: argument checks before any native call,
// verify's boolean, CLI filters, export formats, concurrency on one login, the pkcs11 profile.

import * as crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

import { CKA, CKM, HsmKeyError, SealHsm, call, native, parseCliFilter } from '../src/index.js';

const hsm = SealHsm.memory({ label: 'client' });
afterAll(() => hsm.close());
await hsm.activate('admin-password');
await hsm.login('admin', 'admin-password');
await hsm.users.create('app', 'app-password');
hsm.logout();
await hsm.login('app', 'app-password');

describe('client', () => {
  it('Promise.all of 300 signatures on one login all succeed', async () => {
    const { privateKey, publicKey } = await hsm.keys.generateEc({ curve: 'secp256r1' });
    const msgs = Array.from({ length: 300 }, (_, i) => Buffer.from(`m${i}`));
    const sigs = await Promise.all(msgs.map((m) => privateKey.sign(m)));
    const ok = await Promise.all(sigs.map((s, i) => publicKey.verify(msgs[i]!, s)));
    expect(ok.every(Boolean)).toBe(true);
  });

  it('verify is false for a bad signature and throws for misuse', async () => {
    const { privateKey, publicKey } = await hsm.keys.generateEc({ curve: 'secp384r1' });
    const sig = await privateKey.sign(Buffer.from('a'));
    expect(await publicKey.verify(Buffer.from('b'), sig)).toBe(false);
    expect(await publicKey.verify(Buffer.from('a'), sig.subarray(1))).toBe(false);
    await expect(publicKey.verify(Buffer.from('a'), sig, 'SHA256_RSA_PKCS')).rejects.toBeInstanceOf(HsmKeyError);
  });

  it('misuse is a TypeError / RangeError before any native call', async () => {
    const aes = await hsm.keys.generateAes();
    await expect(aes.sign('text' as unknown as Uint8Array)).rejects.toBeInstanceOf(TypeError);
    await expect(hsm.keys.generateAes({ bits: 100 as 128 })).rejects.toBeInstanceOf(RangeError);
    await expect(aes.encrypt(Buffer.alloc(1), { name: 'NOPE' } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(aes.sign(Buffer.alloc(1), { name: 'SHA256_RSA_PKCS_PSS', hash: 'MD5' as 'SHA1' })).rejects.toBeInstanceOf(RangeError);
    await expect(hsm.keys.generateAes({ label: 5 as unknown as string })).rejects.toBeInstanceOf(TypeError);
    expect(() => SealHsm.memory({ profile: 'softhsm' as 'pkcs11' })).toThrow(RangeError);
  });

  it('finds keys by object filters and by cloudhsm-cli filter strings', async () => {
    const id = crypto.randomBytes(4);
    const pair = await hsm.keys.generateEc({ curve: 'secp256r1', label: 'findable', id });
    expect((await hsm.keys.find({ label: 'findable' })).map((k) => k.class).sort()).toEqual(['private-key', 'public-key']);
    expect((await hsm.keys.find(['attr.label=findable', 'attr.class=private-key'])).map((k) => k.ref)).toEqual([pair.privateKey.ref]);
    expect((await hsm.keys.find([`attr.id=${id.toString('hex')}`, 'attr.key-type=ec'])).length).toBe(2);
    expect((await hsm.keys.find([`key-reference=${pair.publicKey.keyReference}`])).map((k) => k.ref)).toEqual([pair.publicKey.ref]);
    expect(await hsm.keys.find(['key-reference=0x7fffffff'])).toEqual([]);
    expect(parseCliFilter(['attr.token=true'])).toEqual({ token: true });
    expect(() => parseCliFilter(['attr.colour=blue'])).toThrow(RangeError);
  });

  it('exports public keys as SPKI, PEM, JWK and raw points that node:crypto reads as the same key', async () => {
    for (const make of [() => hsm.keys.generateEc({ curve: 'secp256r1' }), () => hsm.keys.generateEd25519(), () => hsm.keys.generateRsa()]) {
      const { privateKey, publicKey } = await make();
      const msg = Buffer.from('export');
      const sig = await privateKey.sign(msg);
      const pem = await publicKey.exportPublicKey('pem');
      const alg = publicKey.type === 'ed25519' ? null : 'sha256';
      const key = publicKey.type === 'ec' ? { key: pem, dsaEncoding: 'ieee-p1363' as const } : pem;
      expect(crypto.verify(alg, msg, key, sig)).toBe(true);
      const jwk = await publicKey.exportPublicKey('jwk');
      expect(crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' })).toBe(pem);
      expect((await privateKey.exportPublicKey('spki')).equals(await publicKey.exportPublicKey('spki'))).toBe(true);
      if (publicKey.type !== 'rsa') expect((await publicKey.exportPublicKey('raw')).length).toBe(publicKey.type === 'ed25519' ? 32 : 65);
    }
  });

  it('writes the HSM-generated GCM IV into the caller\'s iv buffer (the addon, like pIV)', async () => {
    const aes = await hsm.keys.generateAes();
    const session = native.openSession(slotOfFirstToken(), true);
    const iv = new Uint8Array(12);
    const ct = await call(native.encrypt(session, { type: CKM.AES_GCM, iv }, aes.ref, Buffer.from('pIV')));
    expect(iv.some((b) => b !== 0)).toBe(true);
    expect((await aes.decrypt(ct, { name: 'AES_GCM', iv })).toString()).toBe('pIV');
  });

  it('the pkcs11 profile: the SO creates the one normal user; caller-chosen GCM IVs; standard key wrap', async () => {
    const t = SealHsm.memory({ profile: 'pkcs11' });
    try {
      await t.activate('so-pin-0000');
      await t.login('so', 'so-pin-0000');
      await expect(t.users.create('alice', 'pin-00000')).rejects.toMatchObject({ code: 'CKR_ARGUMENTS_BAD' });
      await t.users.create('user', 'pin-00000');
      t.logout();
      await t.login('user', 'pin-00000');
      const aes = await t.keys.generateAes({ wrap: true, unwrap: true, extractable: true });
      const iv = Buffer.alloc(12, 9);
      const { iv: used } = await aes.encrypt(Buffer.from('x'), { name: 'AES_GCM', iv });
      expect(used.equals(iv)).toBe(true);
      // No IV given: a fresh random one each time, never a fixed one (GCM nonce reuse).
      const ivs = await Promise.all(Array.from({ length: 50 }, async () => (await aes.encrypt(Buffer.from('x'))).iv.toString('hex')));
      expect(new Set(ivs).size).toBe(50);
      const again = await aes.encrypt(Buffer.from('same'));
      expect((await aes.decrypt(again.ciphertext, { name: 'AES_GCM', iv: again.iv })).toString()).toBe('same');
      const blob = await aes.wrap(aes, 'AES_KEY_WRAP_PAD');
      await expect(aes.unwrap(blob, { class: 'secret-key', type: 'aes' }, 'AES_KEY_WRAP_PAD')).resolves.toBeDefined();
      expect(t.mechanisms()).not.toContain('CKM_CLOUDHSM_AES_GCM');
    } finally {
      t.close();
    }
  });
});

// The first token created in this file is the client's; its slot is what tokenInfo reports as 'client'.
function slotOfFirstToken(): number {
  for (let slot = 1; slot < 10_000; slot++) {
    try {
      if (native.tokenInfo(slot).label === 'client') return slot;
    } catch {
      // not a slot
    }
  }
  throw new Error('no client token');
}
void CKA;
