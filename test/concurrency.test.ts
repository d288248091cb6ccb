// test/concurrency.test.ts
// Operations run on the libuv pool: hundreds in flight over several sessions all succeed, one-shot
// calls on one session do not collide, and the event loop stays free while they run.

import * as crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

import { CKA, CKM, call, curveByName, native } from '../src/index.js';
import { openToken } from './helpers/hsm.js';

const tk = await openToken('concurrency');
afterAll(() => tk.close());

describe('concurrency', () => {
  it('200 ECDSA and RSA signatures in flight over 8 sessions all succeed and verify', async () => {
    const sessions = Array.from({ length: 8 }, () => native.openSession(tk.slot, true));
    const [ecPub, ecPriv] = await call(native.generateKeyPair(tk.session, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, curveByName('secp256r1').params]], []));
    const [, rsaPriv] = await call(native.generateKeyPair(tk.session, { type: CKM.RSA_PKCS_KEY_PAIR_GEN }, [[CKA.MODULUS_BITS, 2048]], []));
    const msgs = Array.from({ length: 200 }, (_, i) => Buffer.from(`message ${i}`));
    const sigs = await Promise.all(
      msgs.map((m, i) => call(native.sign(sessions[i % 8]!, { type: i % 4 === 0 ? CKM.SHA256_RSA_PKCS : CKM.ECDSA_SHA256 }, i % 4 === 0 ? rsaPriv : ecPriv, m))),
    );
    expect(sigs).toHaveLength(200);
    const ok = await Promise.all(sigs.map((sig, i) => (i % 4 === 0 ? true : call(native.verify(sessions[i % 8]!, { type: CKM.ECDSA_SHA256 }, ecPub, msgs[i]!, sig)))));
    expect(ok.every((x) => x === true)).toBe(true);
    for (const s of sessions) native.closeSession(s);
  });

  it('one-shot calls on a single session run concurrently without CKR_OPERATION_ACTIVE', async () => {
    const k = await call(native.generateKey(tk.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32]]));
    const results = await Promise.all(
      Array.from({ length: 300 }, () => call(native.encrypt(tk.session, { type: CKM.AES_GCM, iv: crypto.randomBytes(12) }, k, Buffer.alloc(1024)))),
    );
    expect(results.every((r) => r.length === 1024 + 16)).toBe(true);
  });

  it('the event loop keeps running while RSA keys are generated', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await Promise.all(Array.from({ length: 4 }, () => call(native.generateKeyPair(tk.session, { type: CKM.RSA_PKCS_KEY_PAIR_GEN }, [[CKA.MODULUS_BITS, 3072]], []))));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it('the synchronous twins give the same results and throw the same codes', async () => {
    const k = await call(native.generateKey(tk.session, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32]]));
    const mech = { type: CKM.AES_GCM, iv: Buffer.alloc(12, 1), aad: Buffer.from('a') };
    const ct = native.encryptSync(tk.session, mech, k, Buffer.from('sync'));
    expect(ct.equals(await call(native.encrypt(tk.session, mech, k, Buffer.from('sync'))))).toBe(true);
    expect(native.decryptSync(tk.session, mech, k, ct).toString()).toBe('sync');
    ct[0]! ^= 1;
    expect(() => native.decryptSync(tk.session, mech, k, ct)).toThrow(expect.objectContaining({ code: 'CKR_ENCRYPTED_DATA_INVALID' }));
    const [pub, priv] = await call(native.generateKeyPair(tk.session, { type: CKM.EC_KEY_PAIR_GEN }, [[CKA.EC_PARAMS, curveByName('secp256r1').params]], []));
    const sig = native.signSync(tk.session, { type: CKM.ECDSA_SHA256 }, priv, Buffer.from('m'));
    expect(native.verifySync(tk.session, { type: CKM.ECDSA_SHA256 }, pub, Buffer.from('m'), sig)).toBe(true);
    expect(() => native.verifySync(tk.session, { type: CKM.ECDSA_SHA256 }, pub, Buffer.from('x'), sig)).toThrow(expect.objectContaining({ code: 'CKR_SIGNATURE_INVALID' }));
    expect(native.digestSync(tk.session, { type: CKM.SHA256 }, Buffer.from('abc')).toString('hex')).toBe(crypto.createHash('sha256').update('abc').digest('hex'));
    expect(() => native.signSync(tk.session, { type: CKM.ECDSA_SHA256 }, 'k' as unknown as number, Buffer.from('m'))).toThrow(TypeError);
  });

  it('destroying a key while a multi-part operation uses it does not break the operation', async () => {
    const s = native.openSession(tk.slot, true);
    const k = await call(native.generateKey(s, { type: CKM.AES_KEY_GEN }, [[CKA.VALUE_LEN, 32]]));
    await call(native.encryptInit(s, { type: CKM.AES_CBC_PAD, iv: Buffer.alloc(16) }, k));
    await call(native.encryptUpdate(s, Buffer.alloc(20, 1)));
    await call(native.destroyObject(s, k));
    expect((await call(native.encryptFinal(s))).length).toBe(16);
    native.closeSession(s);
  });
});
