// src/client/hsm.ts
//
// SealHsm: the cluster as the CloudHSM client software presents it. Activate it, log in as a user
// (one login for the whole application, as CloudHSM's PKCS#11 library does), manage users as an
// admin, and use keys as a crypto user. Sessions are pooled inside: hundreds of operations may be
// in flight at once (`Promise.all`), and none of them waits for another's session.

import { readFile } from 'node:fs/promises';

import { call, hsmError } from '../errors.js';
import { native } from '../native/binding.js';
import { CKA } from '../native/pkcs11_gen.js';
import { CLASS_VALUES, TYPE_VALUES } from './attributes.js';
import type { ClientContext } from './context.js';
import { KeyManager } from './keys.js';
import { hashMechanism, type HashName } from './mechanisms.js';
import { UserManager, type Role } from './users.js';

export type ProfileName = 'cloudhsm' | 'cloudhsm-fips' | 'cloudhsm-hsm1' | 'pkcs11';
export const PROFILES: readonly ProfileName[] = ['cloudhsm', 'cloudhsm-fips', 'cloudhsm-hsm1', 'pkcs11'];

export interface MemoryOptions {
  /** Behaviour to mirror (default 'cloudhsm': hsm2m.medium, non-FIPS). */
  readonly profile?: ProfileName;
  readonly label?: string;
  /** Sessions in the pool (default 4). */
  readonly sessions?: number;
}

/** Where an unattended service finds its unseal key: 32 raw bytes, or 64 hex characters. */
export type UnsealKeySource = Uint8Array | { readonly file: string } | { readonly env: string };

export interface OpenOptions {
  /** The token directory. */
  readonly dir: string;
  /** Make a new token there if none exists (default false: the directory must hold a token). */
  readonly create?: boolean;
  /** For a new token, its profile (default 'cloudhsm'); an existing token must match if given. */
  readonly profile?: ProfileName;
  readonly label?: string;
  /** Opens the master key without a login, for services that restart unattended; it is added to the
   *  token the first time a user logs in with it given. Logins are still needed to use keys. */
  readonly unsealKey?: UnsealKeySource;
  readonly sessions?: number;
}

export interface LoginInfo {
  readonly username: string;
  readonly role: Role;
}

export class SealHsm {
  readonly profile: ProfileName;
  readonly label: string;
  /** User management (`user list/create/delete/change-password`). */
  readonly users: UserManager;
  /** Key management for the logged-in crypto user. */
  readonly keys: KeyManager;
  readonly #slot: number;
  readonly #sessions: number[] = [];
  readonly #poolSize: number;
  #next = 0;
  #closed = false;

  private constructor(slot: number, profile: ProfileName, label: string, poolSize: number) {
    this.#slot = slot;
    this.profile = profile;
    this.label = label;
    this.#poolSize = poolSize;
    const ctx: ClientContext = {
      native,
      slot,
      profile,
      session: () => this.#session(),
      classAndType: (cls, type) => [[CKA.CLASS, CLASS_VALUES[cls]], [CKA.KEY_TYPE, TYPE_VALUES[type]]],
    };
    this.users = new UserManager(ctx);
    this.keys = new KeyManager(ctx);
  }

  /** A cluster in memory: nothing touches disk. For tests and short-lived signers. */
  static memory(options: MemoryOptions = {}): SealHsm {
    const profile = options.profile ?? 'cloudhsm';
    if (!PROFILES.includes(profile)) throw new RangeError(`profile must be one of ${PROFILES.join(', ')}`);
    const sessions = options.sessions ?? 4;
    if (!Number.isInteger(sessions) || sessions < 1 || sessions > 1024) throw new RangeError('sessions must be 1..1024');
    const label = options.label ?? 'sealhsm';
    return new SealHsm(native.createToken(profile, label), profile, label, sessions);
  }

  /** A persistent cluster in a token directory: SQLite (WAL), every change one transaction, key
   *  material sealed under the token's master key, shared safely by several processes. */
  static async open(options: OpenOptions): Promise<SealHsm> {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir === '') {
      throw new TypeError('open({ dir }) needs a directory path');
    }
    if (options.profile !== undefined && !PROFILES.includes(options.profile)) throw new RangeError(`profile must be one of ${PROFILES.join(', ')}`);
    const sessions = options.sessions ?? 4;
    if (!Number.isInteger(sessions) || sessions < 1 || sessions > 1024) throw new RangeError('sessions must be 1..1024');
    const unseal = options.unsealKey === undefined ? null : await readUnsealKey(options.unsealKey);
    const slot = await call(native.openToken(options.dir, options.create ?? false, options.profile ?? '', options.label ?? 'sealhsm', unseal));
    const info = native.tokenInfo(slot);
    return new SealHsm(slot, info.profile as ProfileName, info.label, sessions);
  }

  /** A consistent copy of this (persistent) cluster into a new directory: CloudHSM's backups,
   *  locally. The copy opens with the same passwords (and unseal key). */
  async backup(destinationDir: string): Promise<void> {
    if (typeof destinationDir !== 'string' || destinationDir === '') throw new TypeError('backup needs a destination directory');
    await call(native.backupToken(this.#slot, destinationDir));
  }

  /** `cluster activate`: sets the password of the unactivated admin ('admin'; 'so' for pkcs11). */
  async activate(adminPassword: string): Promise<void> {
    await call(native.activate(this.#slot, adminPassword));
  }

  /** True once `activate` has run. */
  get activated(): boolean {
    return native.loginState(this.#slot).activated;
  }

  /** Logs a user in for this whole application (every pooled session). A second login is
   *  CKR_USER_ALREADY_LOGGED_IN; a wrong password CKR_PIN_INCORRECT; more than 5 lock the user. */
  async login(username: string, password: string): Promise<LoginInfo> {
    if (typeof username !== 'string' || typeof password !== 'string') throw new TypeError('username and password must be strings');
    await call(native.login(this.#slot, username, password));
    return this.currentUser!;
  }

  /** Logs out, for every session. */
  logout(): void {
    try {
      native.logout(this.#slot);
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw hsmError(code === 'CKR_USER_NOT_LOGGED_IN' ? code : 'CKR_GENERAL_ERROR', (e as Error).message, e);
    }
  }

  /** Who is logged in, if anyone. */
  get currentUser(): LoginInfo | undefined {
    const s = native.loginState(this.#slot);
    return s.user && s.role && s.role !== 'unactivated-admin' ? { username: s.user, role: s.role } : undefined;
  }

  /** Random bytes from the HSM. */
  async random(length: number): Promise<Buffer> {
    return call(native.generateRandom(this.#session(), length));
  }

  /** A digest computed in the HSM (crypto users, as on CloudHSM). */
  async digest(data: Uint8Array, hash: HashName = 'SHA256'): Promise<Buffer> {
    return call(native.digest(this.#session(), { type: hashMechanism(hash) }, data));
  }

  /** Every mechanism this cluster's profile offers, by PKCS#11 name. */
  mechanisms(): string[] {
    return native.mechanisms().filter((m) => m.profiles.includes(this.profile)).map((m) => m.name);
  }

  /** Closes every session and drops the in-memory cluster. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    native.removeToken(this.#slot);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #session(): number {
    if (this.#closed) throw hsmError('CKR_SESSION_CLOSED', 'this SealHsm is closed');
    if (this.#sessions.length < this.#poolSize) {
      this.#sessions.push(native.openSession(this.#slot, true));
      return this.#sessions[this.#sessions.length - 1]!;
    }
    this.#next = (this.#next + 1) % this.#sessions.length;
    return this.#sessions[this.#next]!;
  }
}


async function readUnsealKey(source: UnsealKeySource): Promise<Uint8Array> {
  let raw: Uint8Array;
  if (source instanceof Uint8Array) {
    raw = source;
  } else if (typeof source === 'object' && source !== null && 'file' in source) {
    raw = await readFile(source.file);
  } else if (typeof source === 'object' && source !== null && 'env' in source) {
    const v = process.env[source.env];
    if (v === undefined) throw new RangeError(`the environment variable ${source.env} is not set`);
    raw = Buffer.from(v.trim());
  } else {
    throw new TypeError('unsealKey must be bytes, { file } or { env }');
  }
  const text = Buffer.from(raw).toString('latin1').trim();
  if (raw.length !== 32 && /^[0-9a-fA-F]{64}$/.test(text)) raw = Buffer.from(text, 'hex');
  if (raw.length !== 32) throw new RangeError('an unseal key is 32 bytes (or 64 hex characters)');
  return raw;
}
