// Per-user sealing (token format 3; issue "Seal the doors", finding 2): with token.db and one user's
// password, what can be opened and what can be forged. The attacker is test/helpers/offline.ts,
// which knows the format and uses node:crypto and sqlite3 only.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { SealHsm } from '../src/index.js';
import { codeOf } from './helpers/hsm.js';
import { forgeRow, openUser, rowByLabel, tryOpenMaterial } from './helpers/offline.js';
import { cleanup, newToken, sql, tempDir } from './helpers/store.js';

afterEach(cleanup);

describe('one user\'s password and token.db open only that user\'s keys', () => {
  it("bob's password opens none of alice's unshared keys; alice's opens them (the same attacker code)", async () => {
    const dir = tempDir();
    const hsm = await newToken(dir);
    const value = randomBytes(32);
    await hsm.keys.importSecret(value, { type: 'aes', label: 'alice-aes', token: true, extractable: false });
    await hsm.keys.generateEc({ curve: 'secp256r1', label: 'alice-ec', token: true });
    hsm.close();

    const bob = openUser(dir, 'bob', 'bob-password');
    const admin = openUser(dir, 'admin', 'admin-password');
    expect(bob).not.toBeNull();
    expect(openUser(dir, 'bob', 'wrong-password')).toBeNull();
    for (const label of ['alice-aes', 'alice-ec']) {
      const row = rowByLabel(dir, label);
      expect([...row.wraps.keys()]).toEqual(['alice']);
      expect(tryOpenMaterial(dir, row, [bob!, admin!])).toBeNull();
    }
    // The control: the same code with alice's password opens her key, so the refusal above is the
    // format's, not the attacker's mistake.
    const alice = openUser(dir, 'alice', 'alice-password');
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'alice-aes'), [alice!])?.equals(value)).toBe(true);
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'alice-ec'), [alice!])).not.toBeNull();
  });

  it('a share opens for bob with his own password; an unshare takes his wrap away', async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    const value = randomBytes(32);
    const key = await hsm.keys.importSecret(value, { type: 'aes', label: 'shared', token: true });
    await key.share('bob');
    const { ciphertext, iv } = await key.encrypt(Buffer.from('for bob'));
    hsm.close();

    // Bob uses it through the API, in a process where alice never logged in ...
    hsm = await SealHsm.open({ dir });
    await hsm.login('bob', 'bob-password');
    const asBob = await hsm.keys.get(key.ref);
    expect((await asBob.decrypt(ciphertext, { name: 'AES_GCM', iv })).toString()).toBe('for bob');
    hsm.close();
    // ... and offline with his password, as a sharee can (README says so: a share is a copy).
    const bob = openUser(dir, 'bob', 'bob-password')!;
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'shared'), [bob])?.equals(value)).toBe(true);

    hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password');
    await (await hsm.keys.get(key.ref)).unshare('bob');
    hsm.close();
    expect([...rowByLabel(dir, 'shared').wraps.keys()]).toEqual(['alice']);
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'shared'), [bob])).toBeNull();
    hsm = await SealHsm.open({ dir });
    await hsm.login('bob', 'bob-password');
    expect(await codeOf(hsm.keys.get(key.ref))).toBe('CKR_OBJECT_HANDLE_INVALID');
    hsm.close();
  });
});

describe("another user with the state key cannot forge a user's rows", () => {
  it('an edited row of alice passes the token layer (bob re-MACs it) but not her signature', async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    const key = await hsm.keys.generateAes({ label: 'alice-key', token: true });
    hsm.close();
    const bob = openUser(dir, 'bob', 'bob-password')!;
    forgeRow(dir, bob, rowByLabel(dir, 'alice-key').handle, "label = CAST('renamed' AS BLOB)");

    hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password'); // the token layer verifies: bob's MACs are good ones
    const e = await hsm.keys.get(key.ref).catch((x: Error) => x);
    expect((e as { code?: string }).code).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    expect((e as Error).message).toMatch(/signature by 'alice' does not verify/);
    hsm.close();
  });

  /** Alice's token with two keys, 'doomed' and 'kept'; `deleteDoomed` is bob deleting the first as
   *  the state key lets him (the token manifest made to match). Alice stays logged in. */
  async function aliceWithTwoKeys(): Promise<{ dir: string; hsm: SealHsm; deleteDoomed: () => void }> {
    const dir = tempDir();
    const hsm = await newToken(dir);
    await hsm.keys.generateAes({ label: 'doomed', token: true });
    await hsm.keys.generateAes({ label: 'kept', token: true });
    return { dir, hsm, deleteDoomed: () => forgeRow(dir, openUser(dir, 'bob', 'bob-password')!, rowByLabel(dir, 'doomed').handle, { remove: true }) };
  }

  it("a row of alice's deleted by bob (token manifest fixed) fails alice's own manifest at her login", async () => {
    const { dir, hsm: first, deleteDoomed } = await aliceWithTwoKeys();
    first.close();
    deleteDoomed();

    const hsm = await SealHsm.open({ dir });
    await hsm.login('bob', 'bob-password'); // bob's own state is whole
    hsm.logout();
    const e = await hsm.login('alice', 'alice-password').catch((x: Error) => x);
    expect((e as Error).message).toMatch(/objects of user 'alice' \(1 rows, 2 expected\)/);
    hsm.close();
  });

  it("the same, under alice's running process: her next call fails, naming her objects", async () => {
    const { hsm, deleteDoomed } = await aliceWithTwoKeys();
    expect(await hsm.keys.find({ label: 'kept' })).toHaveLength(1);
    deleteDoomed();
    const e = await hsm.keys.find({ label: 'kept' }).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/objects of user 'alice'/);
    hsm.close();
  });

  it("a user's public key substituted on disk is caught: by the certificate, and by the user itself", async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    hsm.logout();
    await hsm.login('bob', 'bob-password');
    const bobs = await hsm.keys.generateAes({ label: 'to-share', token: true });
    hsm.close();
    // Bob puts his own sharing key in alice's record, so that what is shared with her opens for him.
    sql(dir, "UPDATE users SET kx_public = (SELECT kx_public FROM users WHERE name = 'bob') WHERE name = 'alice'");
    hsm = await SealHsm.open({ dir });
    await hsm.login('bob', 'bob-password');
    const share = await (await hsm.keys.get(bobs.ref)).share('alice').catch((x: Error) => x);
    expect(share).toMatchObject({ code: 'CKR_SEALHSM_INTEGRITY_FAILURE' });
    expect((share as Error).message).toMatch(/user 'alice': its public keys are not certified by the token's admin key/);
    hsm.logout();
    const login = await hsm.login('alice', 'alice-password').catch((x: Error) => x);
    // Here the token layer sees it first (bob did not re-MAC the row); had he, her own keys would.
    expect((login as Error).message).toMatch(/user 'alice': (its record was edited|the public keys in its record are not its own)/);
    hsm.close();
  });
});

describe('passwords: a user changes its own, an admin resets', () => {
  it("a user's own change moves its keys to a new UK: the old password with today's token.db opens nothing", async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    const value = randomBytes(32);
    const key = await hsm.keys.importSecret(value, { type: 'aes', label: 'mine', token: true });
    const before = openUser(dir, 'alice', 'alice-password')!;
    await hsm.users.changePassword('alice', 'alice-password-2');
    hsm.close();
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'mine'), [before])).toBeNull(); // the old UK, kept from before
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'mine'), [openUser(dir, 'alice', 'alice-password-2')!])?.equals(value)).toBe(true);
    hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password-2');
    await expect((await hsm.keys.get(key.ref)).encrypt(Buffer.from('x'))).resolves.toBeDefined();
    hsm.close();
  });

  it("an admin's reset of a user who holds keys is refused, unless it discards them (logged); shares to it go", async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    await hsm.keys.generateAes({ label: 'alice-only', token: true });
    hsm.logout();
    await hsm.login('bob', 'bob-password');
    const bobs = await hsm.keys.generateAes({ label: 'bob-shares', token: true });
    await bobs.share('alice');
    hsm.logout();
    await hsm.login('admin', 'admin-password');
    const refused = await hsm.users.changePassword('alice', 'reset-password').catch((x: Error & { code?: string }) => x);
    expect(refused).toMatchObject({ code: 'CKR_ACTION_PROHIBITED' });
    expect((refused as Error).message).toMatch(/holds 1 token objects/);
    expect(await codeOf(hsm.users.changePassword('bob', 'bob-password-2'))).toBe('CKR_ACTION_PROHIBITED'); // bob holds one too
    hsm.logout();
    await hsm.login('alice', 'alice-password'); // nothing changed
    hsm.logout();
    await hsm.login('admin', 'admin-password');
    await hsm.users.changePassword('alice', 'reset-password', { discardKeys: true });
    hsm.close();
    expect(readFileSync(join(dir, 'operator.log'), 'utf8')).toMatch(/admin reset the password of alice, deleting the 1 token objects it held/);
    expect(sql(dir, "SELECT count(*) FROM objects WHERE holder = 'alice'")).toBe('0');
    expect(rowByLabel(dir, 'bob-shares').wraps.has('alice')).toBe(false);
    hsm = await SealHsm.open({ dir });
    expect(await codeOf(hsm.login('alice', 'alice-password'))).toBe('CKR_PIN_INCORRECT'); // the visible sign
    await hsm.login('alice', 'reset-password');
    expect(await hsm.keys.find({ label: 'bob-shares' })).toHaveLength(0);
    hsm.close();
  }, 30_000);

  it('a reset never re-MACs a row edited on disk: it is refused, and nothing changes', async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    hsm.logout();
    await hsm.login('bob', 'bob-password');
    await (await hsm.keys.generateAes({ label: 'bob-shares', token: true })).share('alice');
    hsm.close();
    sql(dir, "UPDATE objects SET label = CAST('edited' AS BLOB) WHERE label = CAST('bob-shares' AS BLOB)");
    hsm = await SealHsm.open({ dir });
    await hsm.login('admin', 'admin-password');
    expect(await codeOf(hsm.users.changePassword('alice', 'reset-password'))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    hsm.logout();
    await hsm.login('alice', 'alice-password');
    hsm.close();
  });

  it('a user with no keys is reset as before (the lockout path)', async () => {
    const dir = tempDir();
    const hsm = await newToken(dir);
    hsm.logout();
    await hsm.login('admin', 'admin-password');
    await hsm.users.changePassword('bob', 'bob-password-2');
    hsm.logout();
    await hsm.login('bob', 'bob-password-2');
    hsm.close();
    expect(readFileSync(join(dir, 'operator.log'), 'utf8')).toMatch(/admin reset the password of bob$/m);
  });
});

describe('the unseal key belongs to one user', () => {
  it("the first crypto user to log in with it: it opens that user's keys at open, and no one else's", async () => {
    const dir = tempDir();
    const unsealKey = randomBytes(32);
    // newToken logs the admin in first (no record: an unseal key never holds an admin's keys), then alice.
    let hsm = await newToken(dir, 'cloudhsm', unsealKey);
    const service = await hsm.keys.generateAes({ label: 'service-key', token: true });
    hsm.logout();
    await hsm.login('bob', 'bob-password');
    const bobs = await hsm.keys.generateAes({ label: 'bob-key', token: true });
    hsm.close();
    expect(sql(dir, 'SELECT user FROM unseal')).toBe('alice');

    const bob = openUser(dir, 'bob', 'bob-password')!;
    expect(tryOpenMaterial(dir, rowByLabel(dir, 'service-key'), [bob])).toBeNull();
    hsm = await SealHsm.open({ dir, unsealKey }); // alice's keys open here, without her password
    await hsm.login('alice', 'alice-password');
    await expect((await hsm.keys.get(service.ref)).encrypt(Buffer.from('x'))).resolves.toBeDefined();
    hsm.logout();
    await hsm.login('bob', 'bob-password'); // his own password opens his keys in this process
    await expect((await hsm.keys.get(bobs.ref)).encrypt(Buffer.from('x'))).resolves.toBeDefined();
    expect(await codeOf(hsm.keys.get(service.ref))).toBe('CKR_OBJECT_HANDLE_INVALID');
    hsm.close();
  });

  it('goes with its user: a deleted user leaves no record, and the token still opens with the key', async () => {
    const dir = tempDir();
    const unsealKey = randomBytes(32);
    let hsm = await newToken(dir, 'cloudhsm', unsealKey); // alice's keys, as above
    hsm.logout();
    await hsm.login('admin', 'admin-password');
    await hsm.users.delete('alice');
    hsm.close();
    expect(sql(dir, 'SELECT count(*) FROM unseal')).toBe('0');
    hsm = await SealHsm.open({ dir, unsealKey });
    await hsm.login('bob', 'bob-password'); // the next crypto user's login makes the record again
    hsm.close();
    expect(sql(dir, 'SELECT user FROM unseal')).toBe('bob');
  });
});
