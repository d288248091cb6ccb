// src/native/binding.ts
//
// The only module that loads the compiled addon (build/Release/sealhsm.node, or the prebuilt one). It declares the
// addon's exact shape; every other module reaches native code through `native` from here.
// No policy and no CloudHSM or WebCrypto nouns: this is the PKCS#11-shaped door, typed.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A CK_ATTRIBUTE value as the addon accepts it: CK_BBOOL, CK_ULONG, bytes, UTF-8 text, or a nested
 *  template (CKA_WRAP_TEMPLATE / CKA_UNWRAP_TEMPLATE). */
export type AttributeInput = boolean | number | Uint8Array | string | ReadonlyArray<readonly [number, boolean | number | Uint8Array | string]>;
/** A template: attribute type (CKA_*) and value, in order. */
export type NativeTemplate = ReadonlyArray<readonly [type: number, value: AttributeInput]>;

/** A mechanism and its parameters (CK_MECHANISM with the parameter structure flattened). Where a
 *  mechanism takes no parameter, the calls also accept its bare CKM_* number, which skips reading an
 *  object's keys (measurable on small operations). */
export interface NativeMechanism {
  readonly type: number;
  readonly iv?: Uint8Array;
  readonly aad?: Uint8Array;
  readonly tagBits?: number;
  readonly counterBits?: number;
  readonly hashAlg?: number;
  readonly mgf?: number;
  readonly saltLength?: number;
  readonly label?: Uint8Array;
  readonly kdf?: number;
  readonly sharedData?: Uint8Array;
  readonly publicData?: Uint8Array;
  readonly macLength?: number;
  readonly aesKeyBits?: number;
  readonly extract?: boolean;
  readonly expand?: boolean;
  readonly saltType?: number;
  readonly salt?: Uint8Array;
  readonly info?: Uint8Array;
  readonly saltKey?: number;
  /** SP 800-108: the PRF mechanism (CKM_SHA*_HMAC or CKM_AES_CMAC). The label travels in `label`. */
  readonly prf?: number;
  readonly context?: Uint8Array;
  readonly dkmBits?: number;
}

/** One attribute read back: `rv` is CKR_OK, CKR_ATTRIBUTE_SENSITIVE or CKR_ATTRIBUTE_TYPE_INVALID. */
export interface NativeAttribute {
  readonly type: number;
  readonly rv: number;
  readonly value: Buffer | null;
}

export interface NativeMechanismInfo {
  readonly type: number;
  readonly name: string;
  readonly flags: number;
  readonly minKeySize: number;
  readonly maxKeySize: number;
  readonly multipart: boolean;
  /** Profiles that offer the mechanism. */
  readonly profiles: string[];
}

export type NativeRole = 'unactivated-admin' | 'admin' | 'crypto-user';

export interface NativeLoginState {
  readonly activated: boolean;
  readonly user: string | null;
  readonly role: NativeRole | null;
}

export interface NativeUser {
  readonly user: string;
  readonly role: NativeRole;
  readonly locked: boolean;
}

export interface NativeTokenInfo {
  readonly label: string;
  readonly profile: string;
  readonly objects: number;
  readonly sessions: number;
  readonly persistent: boolean;
  /** The process's key memory (every token's): mapped and locked, mapped but not locked
   *  (RLIMIT_MEMLOCK refused), and held by live keys. */
  readonly keyMemory: KeyMemory;
}

export interface KeyMemory {
  readonly lockedBytes: number;
  readonly unlockedBytes: number;
  readonly inUseBytes: number;
}

/** The addon. Async functions reject with an Error carrying `code` (CKR name) and `rv`. */
export interface NativeBinding {
  createToken(profile: string, label: string, maxFailedLogins?: number): number;
  removeToken(slot: number): void;
  /** Opens (or with `create`, makes) a persistent token directory; resolves to its slot. */
  openToken(
    dir: string, create: boolean, profile: string, label: string, unsealKey: Uint8Array | null, fullSync: boolean, maxFailedLogins: number | undefined,
    generationMirror?: string | null,
  ): Promise<number>;
  /** A consistent copy of a live persistent token into a new directory. */
  backupToken(slot: number, destination: string): Promise<void>;
  /** Claims the token for a service with state of its own ('kms'): a second process is refused, naming the holder. */
  claimService(slot: number, name: string): void;
  releaseService(slot: number, name: string): void;
  openSession(slot: number, readWrite: boolean): number;
  closeSession(session: number): void;
  tokenInfo(slot: number): NativeTokenInfo;
  mechanisms(): NativeMechanismInfo[];
  profiles(): Array<{ name: string; description: string }>;
  returnCodes(): Record<string, number>;
  /** What this build carries: `openssl`, the OpenSSL it runs (OpenSSL_version: the system's static
   *  copy, or Node's own); `ed25519`, what signs and makes Ed25519 keys ("libsodium <version>" when
   *  the build found libsodium-dev, else "OpenSSL"); `opensslFreesWiped`, whether that OpenSSL wipes
   *  every block it frees (the static copy does; Node's own, shared with Node, is left alone). */
  readonly build: { readonly openssl: string; readonly ed25519: string; readonly opensslFreesWiped: boolean };

  /** Sets the first admin's password (CloudHSM `cluster activate`; the SO PIN for pkcs11). */
  activate(slot: number, password: string | Uint8Array): Promise<void>;
  /** Logs a user in for every session of this application on the token. */
  login(slot: number, user: string, password: string | Uint8Array): Promise<void>;
  logout(slot: number): void;
  /** The admin (SO) accepts a token older than the generation last acknowledged; recorded in operator.log. */
  acceptRollback(slot: number, user: string, password: string | Uint8Array): Promise<void>;
  /** A user locked by failed logins proves its password where the token's files are; recorded in operator.log. */
  unlockUser(slot: number, user: string, password: string | Uint8Array): Promise<void>;
  loginState(slot: number): NativeLoginState;
  createUser(slot: number, user: string, password: string | Uint8Array, role: 'admin' | 'crypto-user'): Promise<void>;
  deleteUser(slot: number, user: string): Promise<void>;
  migrateToken(dir: string, users: readonly string[], passwords: readonly (string | Uint8Array)[]): Promise<void>;
  changePassword(slot: number, user: string, password: string | Uint8Array, discardKeys?: boolean): Promise<void>;
  listUsers(slot: number): NativeUser[];

  createObject(session: number, template: NativeTemplate): Promise<number>;
  destroyObject(session: number, object: number): Promise<void>;
  getAttributes(session: number, object: number, types: readonly number[]): Promise<NativeAttribute[]>;
  findObjects(session: number, template: NativeTemplate): Promise<number[]>;
  /** C_SetAttributeValue (pkcs11 profile) or CloudHSM `key set-attribute` rules (cloudhsm profiles). */
  setAttributes(session: number, object: number, template: NativeTemplate): Promise<void>;
  /** C_CopyObject: a new object with the template's changes, under the same attribute rules. */
  copyObject(session: number, object: number, template: NativeTemplate): Promise<number>;
  /** Shares (true) or unshares (false) a key with another crypto user; owner only. */
  shareKey(session: number, key: number, user: string, share: boolean): Promise<void>;
  ownership(session: number, object: number): { owner: string; sharedWith: string[] };

  generateKey(session: number, mechanism: NativeMechanism | number, template: NativeTemplate): Promise<number>;
  generateKeyPair(
    session: number,
    mechanism: NativeMechanism | number,
    publicTemplate: NativeTemplate,
    privateTemplate: NativeTemplate,
  ): Promise<[publicKey: number, privateKey: number]>;
  wrapKey(session: number, mechanism: NativeMechanism | number, wrappingKey: number, key: number): Promise<Buffer>;
  unwrapKey(
    session: number,
    mechanism: NativeMechanism | number,
    unwrappingKey: number,
    wrapped: Uint8Array,
    template: NativeTemplate,
  ): Promise<number>;
  deriveKey(session: number, mechanism: NativeMechanism | number, baseKey: number, template: NativeTemplate): Promise<number>;

  /** Where the token generates the IV (CloudHSM CKM_AES_GCM), it is written into `mechanism.iv`. */
  encrypt(session: number, mechanism: NativeMechanism | number, key: number, data: Uint8Array): Promise<Buffer>;
  decrypt(session: number, mechanism: NativeMechanism | number, key: number, data: Uint8Array): Promise<Buffer>;
  sign(session: number, mechanism: NativeMechanism | number, key: number, data: Uint8Array): Promise<Buffer>;
  /** Resolves true; a bad signature rejects with CKR_SIGNATURE_INVALID / CKR_SIGNATURE_LEN_RANGE. */
  verify(session: number, mechanism: NativeMechanism | number, key: number, data: Uint8Array, signature: Uint8Array): Promise<true>;
  digest(session: number, mechanism: NativeMechanism | number, data: Uint8Array): Promise<Buffer>;
  generateRandom(session: number, length: number): Promise<Buffer>;

  /** Synchronous twins of the one-shot calls: same checks and errors (thrown), run on the calling
   *  thread. For small, hot operations where the thread-pool hop costs more than the work. */
  encryptSync(session: number, mechanism: NativeMechanism | number, key: number, data: Uint8Array): Buffer;
  decryptSync(session: number, mechanism: NativeMechanism | number, key: number, data: Uint8Array): Buffer;
  signSync(session: number, mechanism: NativeMechanism | number, key: number, data: Uint8Array): Buffer;
  verifySync(session: number, mechanism: NativeMechanism | number, key: number, data: Uint8Array, signature: Uint8Array): true;
  digestSync(session: number, mechanism: NativeMechanism | number, data: Uint8Array): Buffer;

  encryptInit(session: number, mechanism: NativeMechanism | number, key: number): Promise<void>;
  encryptUpdate(session: number, data: Uint8Array): Promise<Buffer>;
  encryptUpdateSync(session: number, data: Uint8Array): Buffer;
  encryptFinal(session: number): Promise<Buffer>;
  encryptFinalSync(session: number): Buffer;
  decryptInit(session: number, mechanism: NativeMechanism | number, key: number): Promise<void>;
  decryptUpdate(session: number, data: Uint8Array): Promise<Buffer>;
  decryptUpdateSync(session: number, data: Uint8Array): Buffer;
  decryptFinal(session: number): Promise<Buffer>;
  decryptFinalSync(session: number): Buffer;
  signInit(session: number, mechanism: NativeMechanism | number, key: number): Promise<void>;
  signUpdate(session: number, data: Uint8Array): Promise<void>;
  signFinal(session: number): Promise<Buffer>;
  verifyInit(session: number, mechanism: NativeMechanism | number, key: number): Promise<void>;
  verifyUpdate(session: number, data: Uint8Array): Promise<void>;
  verifyFinal(session: number, signature: Uint8Array): Promise<true>;
  digestInit(session: number, mechanism: NativeMechanism | number): Promise<void>;
  digestUpdate(session: number, data: Uint8Array): Promise<void>;
  digestFinal(session: number): Promise<Buffer>;
}

const require = createRequire(import.meta.url);

const root = fileURLToPath(new URL('../..', import.meta.url));

function load(): NativeBinding {
  // dist/native/binding.js and src/native/binding.ts both sit two levels below the package root.
  // node-gyp-build takes a source build (build/Release) first, else the prebuilt binary the package
  // ships for this platform (prebuilds/<platform>-<arch>/, one Node-API build for every Node version).
  try {
    return (require('node-gyp-build') as (dir: string) => NativeBinding)(root);
  } catch (e) {
    const why = (e as { code?: string }).code === 'MODULE_NOT_FOUND' || /No native build was found/.test((e as Error).message)
      ? 'the native addon was not built and no prebuilt binary fits (install scripts were skipped, or the build failed)'
      : `the native addon did not load (${(e as Error).message.split('\n')[0]})`;
    throw new Error(
      `sealhsm: ${why} on ${process.platform}-${process.arch}, Node ${process.versions.node}. Two ways out: ` +
        'install a C++20 toolchain (g++, make, python3) and SQLite\'s headers (libsqlite3-dev), then run `npm rebuild sealhsm`; ' +
        'or use a platform sealhsm is built for (Linux x64 with glibc).',
      { cause: e },
    );
  }
}

/** The loaded addon. */
export const native: NativeBinding = load();
