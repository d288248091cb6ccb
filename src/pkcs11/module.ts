// src/pkcs11/module.ts
// Where sealhsm-pkcs11.so is, and a ready configuration for a token directory — what a program
// written for a PKCS#11 library (or for CloudHSM's) needs to load sealhsm instead.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ProfileName } from '../client/hsm.js';

/** The absolute path of the PKCS#11 module built with this package. */
export function pkcs11ModulePath(): string {
  const path = fileURLToPath(new URL('../../build/Release/sealhsm-pkcs11.so', import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing; run npm install (or npm run build:native)`);
  return path;
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
    lines.push(parts.join(' '));
  }
  return `${lines.join('\n')}\n`;
}
