// test/helpers/store.ts — token directories for the persistence tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SealHsm, type ProfileName } from '../../src/index.js';

const made: string[] = [];
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sealhsm-'));
  made.push(d);
  return join(d, 'token');
}
export function cleanup(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Activates a cluster, creates crypto users alice and bob (passwords '<name>-password'), and
 *  leaves alice logged in. */
export async function withAliceAndBob(hsm: SealHsm): Promise<SealHsm> {
  await hsm.activate('admin-password');
  await hsm.login('admin', 'admin-password');
  await hsm.users.create('alice', 'alice-password');
  await hsm.users.create('bob', 'bob-password');
  hsm.logout();
  await hsm.login('alice', 'alice-password');
  return hsm;
}

/** A new persistent cluster with crypto users alice and bob; alice logged in. */
export async function newToken(dir: string, profile: ProfileName = 'cloudhsm', unsealKey?: Uint8Array): Promise<SealHsm> {
  return withAliceAndBob(await SealHsm.open({ dir, create: true, profile, ...(unsealKey && { unsealKey }) }));
}

/** Every byte the token directory holds (database, WAL and shared-memory files). */
export function tokenBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

/** Runs SQL against token.db with the sqlite3 command-line tool (what an attacker with the disk has). */
export function sql(dir: string, statement: string): string {
  return execFileSync('sqlite3', [join(dir, 'token.db'), statement], { encoding: 'utf8' }).trim();
}
