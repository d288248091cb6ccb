// test/store_hardening.test.ts
// Issue "harden the seal", token state at rest: an attacker who can write the token directory edits
// user rows and the header, inserts rows, deletes rows and restores old ones (sqlite3, as in
// helpers/store.ts); each is detected with CKR_SEALHSM_INTEGRITY_FAILURE. Damaged objects are
// named and reported by find(), never hidden, and the rest of the token stays usable.

import * as crypto from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { DamagedKeysError, HsmIntegrityError, SealHsm } from '../src/index.js';
import { codeOf } from './helpers/hsm.js';
import { cleanup, newToken, sql, tempDir } from './helpers/store.js';

afterAll(cleanup);


async function messageOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (e: Error) => e.message);
}

/** A token with alice's key 'victim' (shared with bob) and 'bystander'; closed. */
async function tokenWithKeys(unsealKey?: Uint8Array) {
  const dir = tempDir();
  const hsm = await newToken(dir, 'cloudhsm', unsealKey);
  const victim = await hsm.keys.generateAes({ label: 'victim', token: true });
  const bystander = await hsm.keys.generateAes({ label: 'bystander', token: true });
  hsm.close();
  return { dir, victim: victim.ref, bystander: bystander.ref };
}

describe('user rows and the header are authenticated', () => {
  it('an admin row inserted on disk logs nobody in, and the token refuses every login', async () => {
    const { dir } = await tokenWithKeys();
    sql(dir, "INSERT INTO users SELECT 'eve', 'admin', salt, n, r, p, verifier, master_wrap, gen, mac FROM users WHERE name = 'bob'");
    const hsm = await SealHsm.open({ dir });
    expect(await codeOf(hsm.login('eve', 'bob-password'))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    expect(await messageOf(hsm.login('alice', 'alice-password'))).toMatch(/rows do not match its manifest/);
    expect(hsm.currentUser).toBeUndefined();
    hsm.close();
  });

  it('a verifier swapped in on disk does not log in, also when an unseal key already opened the token', async () => {
    const unseal = crypto.randomBytes(32);
    const { dir } = await tokenWithKeys(unseal);
    // bob's row now carries alice's salt and verifier: alice's password passes the verifier check,
    // but it cannot open bob's own wrap of the master key.
    sql(dir, "UPDATE users SET salt = (SELECT salt FROM users WHERE name = 'alice'), verifier = (SELECT verifier FROM users WHERE name = 'alice') WHERE name = 'bob'");
    const hsm = await SealHsm.open({ dir, unsealKey: unseal });
    expect(await codeOf(hsm.login('bob', 'alice-password'))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    expect(hsm.currentUser).toBeUndefined();
    await expect(hsm.login('alice', 'alice-password')).resolves.toMatchObject({ username: 'alice' });
    hsm.close();
  });

  it('a role edited on disk is refused even with an unseal key', async () => {
    const unseal = crypto.randomBytes(32);
    const { dir } = await tokenWithKeys(unseal);
    sql(dir, "UPDATE users SET role = 'admin' WHERE name = 'bob'");
    const hsm = await SealHsm.open({ dir, unsealKey: unseal });
    expect(await codeOf(hsm.login('bob', 'bob-password'))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    hsm.close();
  });

  it('the profile or label edited in the header: no login opens the token', async () => {
    for (const edit of ["UPDATE meta SET value = CAST('pkcs11' AS BLOB) WHERE key = 'profile'", "UPDATE meta SET value = CAST('x' AS BLOB) WHERE key = 'label'",
      "UPDATE meta SET value = CAST('0' AS BLOB) WHERE key = 'max_failed_logins'"]) {
      const { dir } = await tokenWithKeys();
      sql(dir, edit);
      const hsm = await SealHsm.open({ dir });
      // pkcs11 has no user 'alice' with a role that opens her wrap; the header MAC fails for the rest.
      expect(await codeOf(hsm.login('alice', 'alice-password')), edit).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
      hsm.close();
    }
  });

  it('with an unseal key the whole state is verified when the token opens', async () => {
    const unseal = crypto.randomBytes(32);
    const { dir, bystander } = await tokenWithKeys(unseal);
    sql(dir, `DELETE FROM objects WHERE handle = ${bystander}`);
    expect(await messageOf(SealHsm.open({ dir, unsealKey: unseal }))).toMatch(/rows do not match its manifest \(4 rows, 5 expected\)/);
  });
});

describe('rollback and deletion are detected', () => {
  it('one row restored from an older copy (an unshare undone) is caught at the next login', async () => {
    const dir = tempDir();
    let hsm = await newToken(dir);
    const key = await hsm.keys.generateAes({ label: 'shared', token: true });
    await key.share('bob');
    const old = sql(dir, `SELECT quote(shared) || ',' || quote(attrs) || ',' || quote(sealed) || ',' || gen || ',' || quote(mac) FROM objects WHERE handle = ${key.ref}`);
    await key.unshare('bob');
    hsm.close();
    const [shared, attrs, sealed, gen, mac] = old.split(',');
    sql(dir, `UPDATE objects SET shared = ${shared}, attrs = ${attrs}, sealed = ${sealed}, gen = ${gen}, mac = ${mac} WHERE handle = ${key.ref}`);
    hsm = await SealHsm.open({ dir });
    expect(await messageOf(hsm.login('bob', 'bob-password'))).toMatch(/restored from an older copy/);
    hsm.close();
  });

  it('a deleted row is caught at the next login', async () => {
    const { dir, victim } = await tokenWithKeys();
    sql(dir, `DELETE FROM objects WHERE handle = ${victim}`);
    const hsm = await SealHsm.open({ dir });
    expect(await codeOf(hsm.login('alice', 'alice-password'))).toBe('CKR_SEALHSM_INTEGRITY_FAILURE');
    hsm.close();
  });

  it('the whole token restored under a running process: its generation goes back', async () => {
    const dir = tempDir();
    const hsm = await newToken(dir);
    await hsm.keys.generateAes({ label: 'before', token: true });
    const old = join(dir, '..', 'old.db');
    sql(dir, `VACUUM INTO '${old}'`);
    await hsm.keys.generateAes({ label: 'after', token: true });
    sql(dir, `.restore '${old}'`);
    expect(await messageOf(hsm.keys.find({ label: 'before' }))).toMatch(/generation went back from \d+ to \d+/);
    hsm.close();
    // A whole-file restore seen by a fresh process is a consistent older token (a backup): only an
    // external monotonic counter could tell it from the current one (README, "Rollback").
    rmSync(join(dir, 'token.db-wal'), { force: true });
    copyFileSync(old, join(dir, 'token.db'));
    const fresh = await SealHsm.open({ dir });
    await fresh.login('alice', 'alice-password');
    expect(await fresh.keys.find({ label: 'after' })).toEqual([]);
    fresh.close();
  });
});

describe('a damaged object is named and reported, the rest stays usable', () => {
  it('malformed stored attributes: find() reports the object, the others still work', async () => {
    const { dir, victim, bystander } = await tokenWithKeys();
    sql(dir, `UPDATE objects SET attrs = X'01' WHERE handle = ${victim}`);
    const hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password');
    const e = await hsm.keys.find({ class: 'secret-key' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DamagedKeysError);
    expect(e).toBeInstanceOf(HsmIntegrityError);
    expect((e as Error).message).toContain(`object 0x${victim.toString(16)} ('victim')`);
    expect((e as DamagedKeysError).keys.map((k) => k.ref)).toEqual([bystander]);
    await expect((await hsm.keys.get(bystander)).encrypt(Buffer.from('fine'))).resolves.toBeDefined();
    const [found] = await hsm.keys.find({ label: 'bystander' });
    expect(found?.ref).toBe(bystander);
    hsm.close();
  });

  it('a key whose seal fails is in find() results as a DamagedKeysError, not dropped', async () => {
    const { dir, victim, bystander } = await tokenWithKeys();
    sql(dir, `UPDATE objects SET sealed = substr(sealed, 1, 20) || (CASE WHEN substr(sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END) || substr(sealed, 22) WHERE handle = ${victim}`);
    const hsm = await SealHsm.open({ dir });
    await hsm.login('alice', 'alice-password');
    const e = (await hsm.keys.find({}).catch((x: unknown) => x)) as DamagedKeysError;
    expect(e.keys.map((k) => k.ref)).toContain(bystander);
    expect(e.damaged.map((d) => d.code)).toEqual(['CKR_SEALHSM_INTEGRITY_FAILURE']);
    expect(e.message).toContain(`object 0x${victim.toString(16)} ('victim')`);
    hsm.close();
  });
});
