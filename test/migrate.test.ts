// `sealhsm token migrate`: tokens of format 2 (made by sealhsm at e2eef4f, test/fixtures/format2)
// rewritten as format 3 with every user's password; refused, changing nothing, without them.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { SealHsm } from '../src/index.js';
import { codeOf } from './helpers/hsm.js';
import { openUser, rowByLabel, tryOpenMaterial } from './helpers/offline.js';
import { cleanup, sql, tempDir } from './helpers/store.js';

afterEach(cleanup);

const FIXTURES = join(import.meta.dirname, 'fixtures', 'format2');
// What the fixture's maker printed: the handles, and 'format 2' under alice-aes (AES-GCM).
const CLOUDHSM = { aes: 1, ecPrivate: 3, shared: 4, wrapping: 5, ciphertext: 'a3c7921a902f0976889ff4e314f13571151714906dedffea', iv: '4a3490ce0c1eb58914a55f56' };
const PASSWORDS = { admin: 'admin-password', alice: 'alice-password', bob: 'bob-password' };

function fixture(name: 'cloudhsm' | 'pkcs11'): string {
  const dir = tempDir();
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

describe('a format-2 token', () => {
  it('is refused at open with a message naming the command', async () => {
    const dir = fixture('cloudhsm');
    expect(await SealHsm.open({ dir }).catch((e: Error) => e.message)).toMatch(/token format 2, where one user's password opens every user's keys; migrate it with `sealhsm token migrate --dir/);
  });

  it('is not migrated without every password, nor with a wrong one: nothing is written', async () => {
    const dir = fixture('cloudhsm');
    const before = readFileSync(join(dir, 'token.db'));
    const missing = await SealHsm.migrate(dir, { admin: 'admin-password', alice: 'alice-password' }).catch((e: Error) => e);
    expect((missing as Error).message).toMatch(/needs the password of every user of the token; missing: bob/);
    expect(await codeOf(SealHsm.migrate(dir, { ...PASSWORDS, bob: 'not-bobs' }))).toBe('CKR_PIN_INCORRECT');
    expect(readFileSync(join(dir, 'token.db')).equals(before)).toBe(true);
    expect(existsSync(`${dir}.format2`) || existsSync(`${dir}.migrating`)).toBe(false);
  });

  it('a tampered one is not migrated', async () => {
    const dir = fixture('cloudhsm');
    sql(dir, "UPDATE objects SET owner = 'bob' WHERE handle = 1");
    expect(await codeOf(SealHsm.migrate(dir, PASSWORDS))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    expect(existsSync(`${dir}.format2`)).toBe(false);
  });

  it('migrates with every password: handles, material, owners, shares and CKA_TRUSTED kept; sealed per user', async () => {
    const dir = fixture('cloudhsm');
    expect(await SealHsm.migrate(dir, PASSWORDS)).toBe(`${dir}.format2`);
    expect(existsSync(join(`${dir}.format2`, 'token.db'))).toBe(true);
    expect(readFileSync(join(dir, 'operator.log'), 'utf8')).toMatch(/migrated from token format 2 \(6 objects, 3 users\)/);
    let hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password');
    const aes = await hsm.keys.get(CLOUDHSM.aes);
    const plain = await aes.decrypt(Buffer.from(CLOUDHSM.ciphertext, 'hex'), { name: 'AES_GCM', iv: Buffer.from(CLOUDHSM.iv, 'hex') });
    expect(plain.toString()).toBe('format 2');
    expect((await aes.info()).attributes.extractable).toBe(false);
    const ec = await hsm.keys.get(CLOUDHSM.ecPrivate);
    expect((await ec.sign(Buffer.from('m'))).length).toBeGreaterThan(0);
    expect((await (await hsm.keys.get(CLOUDHSM.shared)).info()).sharedWith).toEqual(['bob']);
    expect((await (await hsm.keys.get(CLOUDHSM.wrapping)).info()).attributes.trusted).toBe(true);
    const next = await hsm.keys.generateAes({ label: 'after-migration', token: true });
    expect(next.ref).toBeGreaterThan(6); // no handle is given twice
    hsm.logout();
    await hsm.login('bob', 'bob-password');
    await expect((await hsm.keys.get(CLOUDHSM.shared)).encrypt(Buffer.from('x'))).resolves.toBeDefined();
    expect(await codeOf(hsm.keys.get(CLOUDHSM.aes))).toBe('CKR_OBJECT_HANDLE_INVALID');
    hsm.close();
    // Sealed per user now: bob's password opens the key shared with him, not alice's own.
    const bob = openUser(dir, 'bob', 'bob-password')!;
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'alice-aes'), [bob])).toBeNull();
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'shared-with-bob'), [bob])?.equals(Buffer.alloc(32, 0x17))).toBe(true);
    hsm = await SealHsm.open({ dir });
    await hsm.login('admin', 'admin-password');
    expect(hsm.users.list().map((u) => u.username)).toEqual(['admin', 'alice', 'bob']);
    hsm.close();
  });

  it('a pkcs11 token migrates too: the normal user holds its objects', async () => {
    const dir = fixture('pkcs11');
    await SealHsm.migrate(dir, { so: 'so-pin-0000', user: 'user-pin-0' });
    const hsm = await SealHsm.open({ dir });
    await hsm.login('user', 'user-pin-0');
    const [aes] = await hsm.keys.find({ label: 'user-aes' });
    expect(aes?.ref).toBe(1);
    const { ciphertext, iv } = await aes!.encrypt(Buffer.from('still here'));
    expect((await aes!.decrypt(ciphertext, { name: 'AES_GCM', iv })).toString()).toBe('still here');
    expect(await hsm.keys.find({ label: 'user-ec' })).toHaveLength(2);
    hsm.close();
  });
});
