// test/store.test.ts
// The persistent sealed token (issue: crash-safe, shared by processes, fast at 100,000 keys):
// persistence, no plaintext on disk, tamper and corruption detection, format refusal, backup and
// restore, the unseal key. Multi-process and crash tests are in store_processes.test.ts.

import * as crypto from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { HsmIntegrityError, type KeyHandle, SealHsm } from '../src/index.js';
import { cleanup, newToken, sql, tempDir, tokenBytes } from './helpers/store.js';

afterAll(cleanup);

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('persistence', () => {
  it('token keys, users and sharing survive a reopen; session keys do not', async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    const pair = await hsm.keys.generateEc({ curve: 'secp256r1', label: 'kept', token: true });
    const aes = await hsm.keys.generateAes({ label: 'kept-aes', token: true });
    await hsm.keys.generateAes({ label: 'session-only' });
    await pair.privateKey.share('bob');
    const sig = await pair.privateKey.sign(Buffer.from('m'));
    const { ciphertext, iv } = await aes.encrypt(Buffer.from('persisted'));
    hsm.close();

    hsm = await SealHsm.open({ dir });
    expect(hsm.users.list().map((u) => u.username)).toEqual(['admin', 'alice', 'bob']);
    await hsm.login('bob', 'bob-password');
    const [shared] = await hsm.keys.find(['attr.label=kept', 'attr.class=private-key']);
    const [bobsView] = await hsm.keys.find(['attr.label=kept', 'attr.class=public-key']);
    expect(await bobsView!.verify(Buffer.from('m'), await shared!.sign(Buffer.from('m')))).toBe(true);
    hsm.logout();
    await hsm.login('alice', 'alice-password');
    expect(await hsm.keys.find({ label: 'session-only' })).toEqual([]);
    const [pub] = await hsm.keys.find({ label: 'kept', class: 'public-key' });
    expect(await pub!.verify(Buffer.from('m'), sig)).toBe(true);
    expect(pub!.ref).toBe(pair.publicKey.ref); // a token key keeps its reference across opens
    const [k] = await hsm.keys.find({ label: 'kept-aes' });
    expect((await k!.decrypt(ciphertext, { name: 'AES_GCM', iv })).toString()).toBe('persisted');
    expect((await k!.info()).owner).toBe('alice');
    hsm.close();
  });

  it('a failed-login lock is stored: it holds after a reopen until an admin changes the password', async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    hsm.logout();
    for (let i = 0; i < 6; i++) await codeOf(hsm.login('bob', 'wrong-password'));
    hsm.close();
    hsm = await SealHsm.open({ dir });
    // CloudHSM answers a locked user as it answers a wrong password (the lock is no oracle).
    expect(await codeOf(hsm.login('bob', 'bob-password'))).toBe('CKR_PIN_INCORRECT');
    expect(hsm.users.list().find((u) => u.username === 'bob')?.locked).toBe(true);
    await hsm.login('admin', 'admin-password');
    await hsm.users.changePassword('bob', 'bob-password-2');
    hsm.logout();
    await expect(hsm.login('bob', 'bob-password-2')).resolves.toMatchObject({ username: 'bob' });
    hsm.close();
  });

  it("changing a password re-wraps the user's keys; a deleted user can no longer open it", async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    const k = await hsm.keys.generateAes({ token: true, label: 'x' });
    await hsm.users.changePassword('alice', 'alice-password-2');
    hsm.close();
    hsm = await SealHsm.open({ dir });
    expect(await codeOf(hsm.login('alice', 'alice-password'))).toBe('CKR_PIN_INCORRECT');
    await hsm.login('alice', 'alice-password-2');
    await expect(hsm.keys.get(k.ref)).resolves.toBeDefined();
    hsm.logout();
    await hsm.login('admin', 'admin-password');
    await hsm.users.delete('bob');
    hsm.close();
    expect(sql(dir, "SELECT count(*) FROM users WHERE name = 'bob'")).toBe('0');
  });
});

describe('no plaintext key byte and no password on disk', () => {
  it('scanning the token files finds none of the imported secrets or the passwords', async () => {
    const dir = tempDir();
    const hsm = await newToken(dir);
    const aes = crypto.randomBytes(32);
    const hmac = crypto.randomBytes(48);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await hsm.keys.importSecret(aes, { type: 'aes', token: true });
    await hsm.keys.importSecret(hmac, { type: 'generic-secret', token: true });
    await hsm.keys.importPrivateKey(ec, { token: true });
    await hsm.keys.importPrivateKey(rsa, { token: true });
    const files = tokenBytes(dir);
    const needles: Array<[string, Buffer]> = [
      ['aes', aes], ['hmac', hmac],
      ['ec d', Buffer.from(ec.export({ format: 'jwk' }).d!, 'base64url')],
      ['rsa d', Buffer.from(rsa.export({ format: 'jwk' }).d!, 'base64url').subarray(0, 64)],
      ['rsa p', Buffer.from(rsa.export({ format: 'jwk' }).p!, 'base64url').subarray(0, 64)],
      ['rsa qi', rsa.export({ format: 'der', type: 'pkcs8' }).subarray(-64)], // the tail of PKCS#8: the CRT coefficient
    ];
    for (const pw of ['admin-password', 'alice-password', 'bob-password']) needles.push([pw, Buffer.from(pw)]);
    for (const [name, bytes] of needles) {
      expect(files.includes(bytes), `${name} found on disk`).toBe(false);
      expect(files.includes(Buffer.from(bytes.toString('hex'))), `${name} (hex) found on disk`).toBe(false);
      expect(files.includes(Buffer.from(bytes.toString('base64'))), `${name} (base64) found on disk`).toBe(false);
    }
    hsm.close();
  });
});

describe('tamper and corruption are detected, named, and contained', () => {
  async function twoKeys(dir: string) {
    const hsm = await newToken(dir);
    const a = await hsm.keys.generateAes({ label: 'victim', token: true });
    const b = await hsm.keys.generateAes({ label: 'bystander', token: true });
    hsm.close();
    return { a: a.ref, b: b.ref };
  }
  async function reopen(dir: string) {
    const hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password');
    return hsm;
  }
  async function expectIntegrity(hsm: SealHsm, ref: number, label: string) {
    const e = await hsm.keys.get(ref).then((k) => k.encrypt(Buffer.from('x'))).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HsmIntegrityError);
    expect(e).toMatchObject({ code: 'CKR_SEALHSM_INTEGRITY_FAILURE' });
    expect((e as Error).message).toContain(`object 0x${ref.toString(16)} ('${label}')`);
  }

  it('a modified sealed blob', async () => {
    const dir = tempDir();
    const { a, b } = await twoKeys(dir);
    sql(dir, `UPDATE objects SET sealed = substr(sealed, 1, 20) || (CASE WHEN substr(sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END) || substr(sealed, 22) WHERE handle = ${a}`);
    const hsm = await reopen(dir);
    await expectIntegrity(hsm, a, 'victim');
    await expect((await hsm.keys.get(b)).encrypt(Buffer.from('still fine'))).resolves.toBeDefined();
    hsm.close();
  });

  it('a blob swapped in from another object', async () => {
    const dir = tempDir();
    const { a, b } = await twoKeys(dir);
    sql(dir, `UPDATE objects SET sealed = (SELECT sealed FROM objects WHERE handle = ${b}) WHERE handle = ${a}`);
    const hsm = await reopen(dir);
    await expectIntegrity(hsm, a, 'victim');
    hsm.close();
  });

  it('a truncated blob', async () => {
    const dir = tempDir();
    const { a } = await twoKeys(dir);
    sql(dir, `UPDATE objects SET sealed = substr(sealed, 1, 10) WHERE handle = ${a}`);
    const hsm = await reopen(dir);
    await expectIntegrity(hsm, a, 'victim');
    hsm.close();
  });

  it('a foreign blob from another token', async () => {
    const dir = tempDir(), other = tempDir();
    const { a } = await twoKeys(dir);
    const { a: foreign } = await twoKeys(other);
    const blob = sql(other, `SELECT hex(sealed) FROM objects WHERE handle = ${foreign}`);
    sql(dir, `UPDATE objects SET sealed = X'${blob}' WHERE handle = ${a}`);
    const hsm = await reopen(dir);
    await expectIntegrity(hsm, a, 'victim');
    hsm.close();
  });

  it('an edited attribute (making a key extractable, or giving it away) is caught', async () => {
    const dir = tempDir();
    const { a, b } = await twoKeys(dir);
    sql(dir, `UPDATE objects SET owner = 'bob' WHERE handle = ${b}`);
    sql(dir, `UPDATE objects SET label = CAST('renamed' AS BLOB) WHERE handle = ${a}`);
    const hsm = await SealHsm.open({ dir });
    await hsm.login('bob', 'bob-password');
    const stolen = await hsm.keys.get(b).catch((x: unknown) => x);
    expect(stolen).toMatchObject({ code: 'CKR_SEALHSM_INTEGRITY_FAILURE' });
    hsm.logout();
    await hsm.login('alice', 'alice-password');
    expect(await codeOf(hsm.keys.get(a))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    hsm.close();
  });

  it('a user promoted to admin on disk cannot log in', async () => {
    const dir = tempDir();
    await twoKeys(dir);
    sql(dir, "UPDATE users SET role = 'admin' WHERE name = 'bob'");
    const hsm = await SealHsm.open({ dir });
    expect(await codeOf(hsm.login('bob', 'bob-password'))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    await expect(hsm.login('alice', 'alice-password')).resolves.toBeDefined();
    hsm.close();
  });

  it('a directory that is not a token, and a token of a newer format, are refused with a clear message', async () => {
    const notToken = tempDir();
    mkdirSync(notToken, { recursive: true });
    expect(await SealHsm.open({ dir: notToken }).catch((e: Error) => e.message)).toMatch(/is not a sealhsm token \(no token\.db\)/);
    writeFileSync(join(notToken, 'token.db'), 'this is not a database at all, just text that is long enough to matter here....');
    expect(await codeOf(SealHsm.open({ dir: notToken }))).toMatch(/^CKR_/);
    const newer = tempDir();
    (await newToken(newer)).close();
    sql(newer, "UPDATE meta SET value = CAST('4' AS BLOB) WHERE key = 'format'");
    expect(await SealHsm.open({ dir: newer }).catch((e: Error) => e.message)).toMatch(/token format 4, newer than this sealhsm reads \(3\)/);
    expect(await codeOf(SealHsm.open({ dir: tempDir() }))).toBe('CKR_TOKEN_NOT_PRESENT');
  });
});

describe('backup and restore', () => {
  it('a backup of a live token opens elsewhere with the same passwords', async () => {
    const dir = tempDir(), copy = tempDir();
    const hsm = await newToken(dir);
    const k = await hsm.keys.generateEc({ curve: 'secp384r1', label: 'backed-up', token: true });
    const busy = Promise.all(Array.from({ length: 20 }, (_, i) => hsm.keys.generateAes({ token: true, label: `during-${i}` })));
    await hsm.backup(copy);
    await busy;
    const restored = await SealHsm.open({ dir: copy });
    await restored.login('alice', 'alice-password');
    const [priv] = await restored.keys.find({ label: 'backed-up', class: 'private-key' });
    expect(await k.publicKey.verify(Buffer.from('b'), await priv!.sign(Buffer.from('b')))).toBe(true);
    expect(await codeOf(hsm.backup(copy))).toBe('CKR_ARGUMENTS_BAD');
    restored.close();
    hsm.close();
  });
});

describe('the unseal key', () => {
  it("opens a service user's keys without a password; a wrong unseal key is refused", async () => {
    const dir = tempDir();
    const key = crypto.randomBytes(32);
    const hsm = await newToken(dir, 'cloudhsm', key);
    const k = await hsm.keys.generateAes({ token: true, label: 'svc' });
    hsm.close();
    process.env.SEALHSM_TEST_UNSEAL = key.toString('hex');
    const svc = await SealHsm.open({ dir, unsealKey: { env: 'SEALHSM_TEST_UNSEAL' } });
    await svc.login('alice', 'alice-password');
    await expect((await svc.keys.get(k.ref)).encrypt(Buffer.from('x'))).resolves.toBeDefined();
    svc.close();
    expect(await codeOf(SealHsm.open({ dir, unsealKey: crypto.randomBytes(32) }))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    await expect(SealHsm.open({ dir, unsealKey: Buffer.alloc(5) })).rejects.toBeInstanceOf(RangeError);
    expect(tokenBytes(dir).includes(key)).toBe(false);
  });
});

describe('group commit', () => {
  it('concurrent creates share transactions; a quota refusal inside a shared one undoes only its own keys', async () => {
    const dir = tempDir();
    let hsm = await newToken(dir, 'cloudhsm-hsm1'); // 3,300 keys
    const tries = 3_400;
    const outcomes = await Promise.allSettled(
      Array.from({ length: tries }, (_, i) =>
        i % 10 === 0
          ? hsm.keys.generateEc({ curve: 'secp256r1', token: true, label: `pair-${i}` }).then((p) => [p.publicKey, p.privateKey])
          : hsm.keys.generateAes({ token: true, label: `aes-${i}` }).then((k) => [k]),
      ),
    );
    const made = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(made.length).toBeGreaterThan(3_250);
    expect(made.length).toBeLessThanOrEqual(3_300);
    expect(new Set(refused.map((r) => (r.reason as { code?: string }).code))).toEqual(new Set(['CKR_DEVICE_MEMORY']));
    // Shared commits: fewer generations than keys (each commit is one generation).
    const gens = Number(sql(dir, 'SELECT count(DISTINCT gen) FROM objects'));
    expect(gens).toBeLessThan(made.length);
    expect(Number(sql(dir, 'SELECT count(*) FROM objects'))).toBe(made.length);
    hsm.close();

    // The manifest matches the rows (a reopen verifies every one), and every acknowledged key is there and works.
    hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password');
    const refs = new Set((await hsm.keys.find({})).map((k) => k.ref));
    for (const o of outcomes) if (o.status === 'fulfilled') for (const k of o.value) expect(refs.has(k.ref)).toBe(true);
    const [aes] = await hsm.keys.find({ label: 'aes-1' });
    const { ciphertext, iv } = await aes!.encrypt(Buffer.from('kept'));
    expect((await aes!.decrypt(ciphertext, { name: 'AES_GCM', iv })).toString()).toBe('kept');
    hsm.close();
  }, 120_000);

  it('a handle is never given twice: not after the newest key is deleted, nor across a reopen', async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => hsm.keys.generateAes({ token: true, label: `h-${i}` })));
    const refs = first.map((k) => k.ref);
    expect(new Set(refs).size).toBe(50);
    const newest = Math.max(...refs);
    await first.find((k) => k.ref === newest)!.delete();
    const next = await hsm.keys.generateAes({ token: true, label: 'after-delete' });
    expect(next.ref).toBeGreaterThan(newest);
    await next.delete();
    hsm.close();

    hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password');
    const pair = await hsm.keys.generateEc({ curve: 'secp256r1', token: true, label: 'after-reopen' });
    expect(pair.publicKey.ref).toBeGreaterThan(next.ref);
    expect(pair.privateKey.ref).toBeGreaterThan(pair.publicKey.ref);
    // SQLite's own record of the highest handle keeps up, as it does for AUTOINCREMENT.
    expect(Number(sql(dir, "SELECT seq FROM sqlite_sequence WHERE name = 'objects'"))).toBe(pair.privateKey.ref);
    const sig = await pair.privateKey.sign(Buffer.from('m'));
    expect(await pair.publicKey.verify(Buffer.from('m'), sig)).toBe(true);
    hsm.close();
  }, 60_000);
});

describe('the token-object cache', () => {
  it('holds at most 4,096 token objects: keys let go are read back and verified on use, and changes to them stick', async () => {
    const dir = tempDir();
    const hsm = await newToken(dir);
    const keys: KeyHandle[] = [];
    for (let i = 0; i < 5_000; i += 250) {
      keys.push(...(await Promise.all(Array.from({ length: 250 }, (_, j) => hsm.keys.generateAes({ token: true, label: `c-${i + j}` })))));
    }
    // The first keys were made longest ago: out of the cache by now, loaded again here.
    const first = keys[0]!;
    const { ciphertext, iv } = await first.encrypt(Buffer.from('evicted'));
    expect((await first.decrypt(ciphertext, { name: 'AES_GCM', iv })).toString()).toBe('evicted');
    await keys[1]!.setAttributes({ label: 'renamed' });
    expect(await hsm.keys.find({ label: 'renamed' })).toHaveLength(1);
    await keys[2]!.delete();
    expect(await hsm.keys.find({ label: 'c-2' })).toEqual([]);
    for (const k of [keys[3]!, keys[2_500]!, keys[4_999]!]) await expect(k.encrypt(Buffer.from('x'))).resolves.toBeDefined();
    hsm.close();
  }, 120_000);
});
