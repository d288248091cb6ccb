// src/client/hsm.ts
//
// SealHsm: the cluster as the CloudHSM client software presents it. Activate it, log in as a user
// (one login for the whole application, as CloudHSM's PKCS#11 library does), manage users as an
// admin, and use keys as a crypto user. Sessions are pooled inside: hundreds of operations may be
// in flight at once (`Promise.all`), and none of them waits for another's session.

import { readFile } from 'node:fs/promises';

import { call, hsmError } from '../errors.js';
import { native, type KeyMemory } from '../native/binding.js';
import { CKA } from '../native/pkcs11_gen.js';
import { keyIdentifier } from '../keys/export.js';
import { CertificateManager } from '../certs/objects.js';
import { Pki } from '../certs/pki.js';
import { CLASS_VALUES, TYPE_VALUES } from './attributes.js';
import type { ClientContext } from './context.js';
import { KeyManager } from './keys.js';
import { hashMechanism, type HashName } from './mechanisms.js';
import { UserManager, type Role } from './users.js';
import { createCrypto } from '../webcrypto/crypto.js';
import type { HsmKeyOptions } from '../webcrypto/key.js';
import type { HsmCrypto, HsmSubtleCrypto } from '../webcrypto/types.js';
import type { KeyPair } from './keys.js';

export type ProfileName = 'cloudhsm' | 'cloudhsm-fips' | 'cloudhsm-hsm1' | 'pkcs11';
export const PROFILES: readonly ProfileName[] = ['cloudhsm', 'cloudhsm-fips', 'cloudhsm-hsm1', 'pkcs11'];

export interface MemoryOptions {
  /** Behaviour to mirror (default 'cloudhsm': hsm2m.medium, non-FIPS). */
  readonly profile?: ProfileName;
  readonly label?: string;
  /** Sessions in the pool (default 4). */
  readonly sessions?: number;
  /** Failed logins a user may have before it locks (default: the profile's, 5 for CloudHSM and 10
   *  for pkcs11; 0 never locks). */
  readonly maxFailedLogins?: number;
}

function checkLockout(n: number | undefined): number | undefined {
  if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > 1000)) throw new RangeError('maxFailedLogins must be an integer 0..1000');
  return n;
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
  /** For services that restart unattended: the first crypto user to log in while it is given has
   *  its keys wrapped under it too (never an admin's), and from then on they open at `open`, without
   *  that user's password. Logins are still needed to use keys; another user's keys open only with
   *  its own password. */
  readonly unsealKey?: UnsealKeySource;
  readonly sessions?: number;
  /** For a new token: failed logins before a user locks (default: the profile's; 0 never locks). */
  readonly maxFailedLogins?: number;
  /** SQLite's durability: 'full' (default) makes every acknowledged change survive a power loss;
   *  'normal' survives a crashed process but may lose the last changes on power loss, for a faster
   *  commit (README, "Persistent tokens", has the measured cost). */
  readonly synchronous?: 'full' | 'normal';
  /** A second copy of the token's generation mark (the highest generation acknowledged), on another
   *  mount than the token: a token.db restored from an older copy is refused while either mark is
   *  newer (README, "Security model"). Default: the SEALHSM_GENERATION_MIRROR variable, or none. */
  readonly generationMirror?: string;
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
  /** X.509 certificates on the token (CKO_CERTIFICATE objects, visible through the PKCS#11 module). */
  readonly certificates: CertificateManager;
  readonly #slot: number;
  readonly #sessions: number[] = [];
  readonly #poolSize: number;
  #next = 0;
  #closed = false;
  #crypto: HsmCrypto | undefined;
  #pki: Pki | undefined;

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
    this.certificates = new CertificateManager(ctx, this.keys);
  }

  /** A cluster in memory: nothing touches disk. For tests and short-lived signers. */
  static memory(options: MemoryOptions = {}): SealHsm {
    const profile = options.profile ?? 'cloudhsm';
    if (!PROFILES.includes(profile)) throw new RangeError(`profile must be one of ${PROFILES.join(', ')}`);
    const sessions = options.sessions ?? 4;
    if (!Number.isInteger(sessions) || sessions < 1 || sessions > 1024) throw new RangeError('sessions must be 1..1024');
    const label = options.label ?? 'sealhsm';
    return new SealHsm(native.createToken(profile, label, checkLockout(options.maxFailedLogins)), profile, label, sessions);
  }

  /** A persistent cluster in a token directory: SQLite (WAL), every change one transaction, each
   *  user's key material sealed under keys only its own password opens, shared safely by several
   *  processes. */
  static async open(options: OpenOptions): Promise<SealHsm> {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir === '') {
      throw new TypeError('open({ dir }) needs a directory path');
    }
    if (options.profile !== undefined && !PROFILES.includes(options.profile)) throw new RangeError(`profile must be one of ${PROFILES.join(', ')}`);
    const sessions = options.sessions ?? 4;
    if (!Number.isInteger(sessions) || sessions < 1 || sessions > 1024) throw new RangeError('sessions must be 1..1024');
    if (options.synchronous !== undefined && options.synchronous !== 'full' && options.synchronous !== 'normal') {
      throw new RangeError("synchronous must be 'full' or 'normal'");
    }
    const lockout = checkLockout(options.maxFailedLogins);
    const unseal = options.unsealKey === undefined ? null : await readUnsealKey(options.unsealKey);
    let slot: number;
    try {
      const fullSync = options.synchronous !== 'normal';
      const mirror = options.generationMirror ?? (process.env.SEALHSM_GENERATION_MIRROR || null);
      slot = await call(native.openToken(options.dir, options.create ?? false, options.profile ?? '', options.label ?? 'sealhsm', unseal?.key ?? null, fullSync, lockout, mirror));
    } finally {
      unseal?.wipe(); // the addon copied it into locked memory before queueing
    }
    const info = native.tokenInfo(slot);
    return new SealHsm(slot, info.profile as ProfileName, info.label, sessions);
  }

  /** Rewrites a token directory of format 2 (sealhsm before per-user sealing, where one password
   *  opened every user's keys) as format 3, given the password of every user of the token by name.
   *  The old token is verified whole before anything is written, and kept as `<dir>.format2`
   *  (returned), which holds keys under the old seal: remove it once the new token works. Handles,
   *  attributes, owners and shares are kept; failed-login counts and an unseal key's record are not
   *  (the service's first login with its key makes a new one). Stop every process using the token
   *  first. */
  static async migrate(dir: string, passwords: Readonly<Record<string, string>>): Promise<string> {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('migrate(dir, passwords) needs a directory path');
    if (passwords === null || typeof passwords !== 'object') throw new TypeError('migrate(dir, passwords): passwords by user name');
    const users = Object.keys(passwords);
    const values = users.map((u) => passwords[u]);
    if (values.some((p) => typeof p !== 'string')) throw new TypeError('every password is a string');
    await call(native.migrateToken(dir, users, values as string[]));
    return `${dir}.format2`;
  }

  /** A consistent copy of this (persistent) cluster into a new directory: CloudHSM's backups,
   *  locally. The copy opens with the same passwords (and unseal key). */
  async backup(destinationDir: string): Promise<void> {
    if (typeof destinationDir !== 'string' || destinationDir === '') throw new TypeError('backup needs a destination directory');
    await call(native.backupToken(this.#slot, destinationDir));
  }

  /** Accepts a state older than the generation last acknowledged (a restored backup, a cut-off
   *  write-ahead log), which logins refuse until then: the admin (the SO for pkcs11) accepts the
   *  token's, and with it its own objects'; each other user accepts its own objects' (only that
   *  user's key vouches for them, so nobody accepts for another). Nobody may be logged in; the act
   *  is appended to operator.log in the token directory. */
  async acceptRollback(username: string, password: string): Promise<void> {
    if (typeof username !== 'string' || typeof password !== 'string') throw new TypeError('acceptRollback(username, password)');
    await call(native.acceptRollback(this.#slot, username, password));
  }

  /** The operator's way back for a user locked by failed logins — the sole admin too, whom nobody
   *  else can unlock: proving the user's own password where the token directory is (a persistent
   *  token) clears its count without the lockout applying, as none applies to whoever holds the
   *  files. A wrong password still counts; the act is appended to operator.log. */
  async unlockUser(username: string, password: string): Promise<void> {
    if (typeof username !== 'string' || typeof password !== 'string') throw new TypeError('unlockUser(username, password)');
    await call(native.unlockUser(this.#slot, username, password));
  }

  /** `cluster activate`: sets the password of the unactivated admin ('admin'; 'so' for pkcs11). */
  async activate(adminPassword: string): Promise<void> {
    await call(native.activate(this.#slot, adminPassword));
  }

  /** A W3C Web Crypto `Crypto` whose keys live in this HSM (for pkijs' CryptoEngine,
   *  @peculiar/x509's cryptoProvider, and anything else that takes a Crypto). */
  get crypto(): HsmCrypto {
    this.#crypto ??= createCrypto({
      keys: this.keys,
      profile: this.profile,
      has: (m) => this.#mechanismSet().has(m),
      digest: (data, hash) => this.digest(data, hash),
      finishPair: (pair, options) => identifyPair(pair, options),
    });
    return this.#crypto;
  }

  /** Certificate requests, CAs, certificates, CRLs and CMS signatures made with this HSM's keys. */
  get pki(): Pki {
    this.#pki ??= new Pki(this.crypto);
    return this.#pki;
  }

  /** `crypto.subtle`: a SubtleCrypto whose keys live in this HSM (README, "WebCrypto"). */
  get subtle(): HsmSubtleCrypto {
    return this.crypto.subtle;
  }

  #mechanisms: Set<string> | undefined;
  #mechanismSet(): Set<string> {
    this.#mechanisms ??= new Set(this.mechanisms());
    return this.#mechanisms;
  }

  /** The token's slot in the addon (for the PKCS#11-shaped `native` binding beside this client). */
  get slot(): number {
    return this.#slot;
  }

  /** Key memory of this process: how much of it is locked in RAM (mlock) and excluded from core
   *  dumps, how much the lock limit refused (RLIMIT_MEMLOCK; raise it with `ulimit -l`), and how much
   *  live keys hold. */
  get keyMemory(): KeyMemory {
    return native.tokenInfo(this.#slot).keyMemory;
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
    return call(native.digest(this.#session(), hashMechanism(hash), data));
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

/** Token key pairs made without a CKA_ID get the SHA-1 of their public key (RFC 5280's key
 *  identifier, method 1): what a certificate's subjectKeyIdentifier holds, so the two can be linked. */
async function identifyPair(pair: KeyPair, options: HsmKeyOptions): Promise<void> {
  if (!options.token || options.id !== undefined) return;
  const id = keyIdentifier(await pair.publicKey.exportPublicKey('spki'));
  await Promise.all([pair.publicKey.setAttributes({ id }), pair.privateKey.setAttributes({ id })]);
}

const WHITESPACE = new Set([0x09, 0x0a, 0x0d, 0x20]);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Bytes in an ArrayBuffer of their own: V8 keeps small typed arrays on its heap and copies them
 *  when it collects garbage, leaving copies no wipe reaches; an ArrayBuffer's store never moves. */
function offHeap(n: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(n));
}

/** Reads an unseal key into memory of our own: never one of Node's pooled Buffers or a string, so
 *  `wipe()` leaves no copy we made behind (the caller's own bytes, a file's page cache and the
 *  environment block are theirs). 32 raw bytes, or 64 hex characters with surrounding white space. */
async function readUnsealKey(source: UnsealKeySource): Promise<{ key: Uint8Array; wipe: () => void }> {
  const ours: Uint8Array[] = [];
  const wipe = (): void => ours.forEach((b) => b.fill(0));
  let raw: Uint8Array;
  if (source instanceof Uint8Array) {
    raw = source;
  } else if (typeof source === 'object' && source !== null && 'file' in source) {
    raw = await readFile(source.file); // its own allocation, not the pool
    ours.push(raw);
  } else if (typeof source === 'object' && source !== null && 'env' in source) {
    const v = process.env[source.env];
    if (v === undefined) throw new RangeError(`the environment variable ${source.env} is not set`);
    raw = offHeap(Buffer.byteLength(v, 'latin1'));
    Buffer.from(raw.buffer, raw.byteOffset, raw.length).write(v, 'latin1');
    ours.push(raw);
  } else {
    throw new TypeError('unsealKey must be bytes, { file } or { env }');
  }
  if (raw.length === 32) return { key: raw, wipe };
  let start = 0;
  let end = raw.length;
  while (start < end && WHITESPACE.has(raw[start]!)) start++;
  while (end > start && WHITESPACE.has(raw[end - 1]!)) end--;
  if (end - start === 64) {
    const key = offHeap(32);
    ours.push(key);
    let ok = true;
    for (let i = 0; i < 32; i++) {
      const hi = hexValue(raw[start + 2 * i]!);
      const lo = hexValue(raw[start + 2 * i + 1]!);
      ok &&= hi >= 0 && lo >= 0;
      key[i] = ((hi & 15) << 4) | (lo & 15);
    }
    if (ok) return { key, wipe };
  }
  wipe();
  throw new RangeError('an unseal key is 32 bytes (or 64 hex characters)');
}
