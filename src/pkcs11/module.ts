// src/pkcs11/module.ts
// Where sealhsm-pkcs11.so is, and a ready configuration for a token directory — what a program
// written for a PKCS#11 library (or for CloudHSM's) needs to load sealhsm instead.

import { randomBytes, scryptSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ProfileName } from '../client/hsm.js';

/** The absolute path of the PKCS#11 module built with this package. */
export function pkcs11ModulePath(): string {
  // A source build first, else the prebuilt module shipped for this platform.
  const built = fileURLToPath(new URL('../../build/Release/sealhsm-pkcs11.so', import.meta.url));
  const prebuilt = fileURLToPath(new URL(`../../prebuilds/${process.platform}-${process.arch}/sealhsm-pkcs11.so`, import.meta.url));
  if (existsSync(built)) return built;
  if (existsSync(prebuilt)) return prebuilt;
  throw new Error(`${built} is missing and no prebuilt module fits ${process.platform}-${process.arch}; run npm rebuild sealhsm (needs g++, make, python3, libsqlite3-dev)`);
}

export interface Pkcs11SlotOptions {
  /** A token directory, or 'memory' for a token that lives while the module is initialized. */
  readonly dir: string;
  readonly profile?: ProfileName;
  readonly label?: string;
  /** Make the token directory if it is not there yet. */
  readonly create?: boolean;
  /** A file holding the 32-byte unseal key (raw or 64 hex characters). */
  readonly unsealKeyFile?: string;
  /** A memory slot's users, from a file pkcs11Provisioning() wrote: a program that only loads the
   *  module can then log in (CloudHSM's `user:password` PIN) with no setup step of its own. */
  readonly usersFile?: string;
}

/** The text of a module configuration (the file SEALHSM_PKCS11_CONF names), one slot per entry. */
export function pkcs11Config(slots: readonly Pkcs11SlotOptions[]): string {
  if (!Array.isArray(slots) || slots.length === 0) throw new TypeError('pkcs11Config needs at least one slot');
  const lines = ['# sealhsm PKCS#11 module configuration; point SEALHSM_PKCS11_CONF at this file', '# slot <token directory | memory> [profile=...] [label=...] [create=true] [unseal=<key file>]'];
  for (const s of slots) {
    if (typeof s.dir !== 'string' || s.dir === '' || /\s/.test(s.dir)) throw new TypeError('dir must be a path without spaces, or "memory"');
    const dir = s.dir === 'memory' ? 'memory' : resolve(s.dir);
    const parts = [`slot ${dir}`, `profile=${s.profile ?? 'pkcs11'}`];
    if (s.label !== undefined) {
      if (/\s/.test(s.label)) throw new TypeError('label must not contain spaces');
      parts.push(`label=${s.label}`);
    }
    if (s.create) parts.push('create=true');
    if (s.unsealKeyFile !== undefined) parts.push(`unseal=${resolve(s.unsealKeyFile)}`);
    if (s.usersFile !== undefined) {
      if (s.dir !== 'memory') throw new TypeError('usersFile is for memory slots; a token directory keeps its own users');
      parts.push(`users=${resolve(s.usersFile)}`);
    }
    lines.push(parts.join(' '));
  }
  return `${lines.join('\n')}\n`;
}

export interface ProvisionedUser {
  readonly name: string;
  readonly password: string;
  /** 'crypto-user' (default) or 'admin' (the admin — 'admin', or 'so' for pkcs11 — must be listed). */
  readonly role?: 'admin' | 'crypto-user';
}

/** The text of a users file for a memory slot (`usersFile`): each user's name, role and scrypt
 *  verifier (N = 2^14, r = 8, p = 1, a random 16-byte salt: the first 32 bytes of the output), the
 *  same verifier the token keeps. No password is written. */
export function pkcs11Provisioning(users: readonly ProvisionedUser[]): string {
  if (!Array.isArray(users) || users.length === 0) throw new TypeError('pkcs11Provisioning needs at least one user');
  const lines = ['# sealhsm users file: <name> <role> scrypt <N> <r> <p> <salt hex> <verifier hex>; no passwords'];
  for (const u of users) {
    if (typeof u.name !== 'string' || !/^[A-Za-z0-9_]{1,31}$/.test(u.name)) throw new TypeError('a user name is 1..31 letters, digits or _');
    if (typeof u.password !== 'string' || u.password.length < 4) throw new TypeError(`user '${u.name}': a password is needed`);
    const role = u.role ?? 'crypto-user';
    if (role !== 'admin' && role !== 'crypto-user') throw new RangeError("role must be 'admin' or 'crypto-user'");
    const salt = randomBytes(16);
    const out = scryptSync(u.password, salt, 64, { N: 1 << 14, r: 8, p: 1 });
    lines.push(`${u.name} ${role} scrypt ${1 << 14} 8 1 ${salt.toString('hex')} ${out.subarray(0, 32).toString('hex')}`);
    out.fill(0);
  }
  return `${lines.join('\n')}\n`;
}
