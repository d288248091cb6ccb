// src/webcrypto/params.ts
//
// What every provider needs: the facade's view of the HSM, hash names, byte views of BufferSources,
// usage checks with the spec's error names, and the JWK import checks of the spec (kty, use,
// key_ops, ext, alg).

import type { HashName } from '../client/mechanisms.js';
import type { KeyManager } from '../client/keys.js';
import type { JsonWebKey } from '../keys/jwk.js';
import { domError } from './errors.js';
import type { HsmKeyOptions, WebKeyUsage } from './key.js';
import type { KeyPair } from '../client/keys.js';

/** What the providers use of the HSM. */
export interface FacadeContext {
  readonly keys: KeyManager;
  /** The cluster's profile (the CloudHSM profiles choose GCM IVs themselves). */
  readonly profile: string;
  /** True when the profile offers this PKCS#11 mechanism (by name, e.g. 'CKM_HKDF_DERIVE'). */
  has(mechanism: string): boolean;
  digest(data: Uint8Array, hash: HashName): Promise<Buffer>;
  /** Gives a new token key pair its CKA_ID (the SHA-1 of its public key) when none was chosen. */
  finishPair(pair: KeyPair, options: HsmKeyOptions): Promise<void>;
}

export const WEB_HASHES = { 'SHA-1': 'SHA1', 'SHA-256': 'SHA256', 'SHA-384': 'SHA384', 'SHA-512': 'SHA512' } as const satisfies Record<string, HashName>;
export type WebHash = keyof typeof WEB_HASHES;
export const HASH_BYTES: Record<WebHash, number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
/** HMAC's default key length: the hash's block size. */
export const HASH_BLOCK_BITS: Record<WebHash, number> = { 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 };

/** The canonical name of a (normalized) hash member: TypeError when missing, NotSupportedError when unknown. */
export function webHash(hash: unknown, member = 'hash'): WebHash {
  if (hash === undefined) throw new TypeError(`${member}: Missing required property`);
  const name = typeof hash === 'string' ? hash : (hash as { name?: unknown } | null)?.name;
  if (typeof name !== 'string') throw new TypeError(`${member}: must be an algorithm identifier`);
  const found = (Object.keys(WEB_HASHES) as WebHash[]).find((h) => h.toLowerCase() === name.toLowerCase());
  if (found === undefined) throw domError('NotSupportedError', `${member}: ${name} is not supported (SHA-1, SHA-256, SHA-384, SHA-512)`);
  return found;
}

/** A view of a BufferSource's bytes (no copy). */
export function view(data: BufferSource | ArrayBufferView): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('expected an ArrayBuffer or ArrayBufferView');
}

/** Bytes out of the HSM as the ArrayBuffer Web Crypto returns. */
export function arrayBuffer(b: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}

/** SyntaxError unless every usage is one the algorithm allows. */
export function checkUsages(usages: readonly string[], allowed: readonly string[]): void {
  if (!Array.isArray(usages)) throw new TypeError('keyUsages must be a sequence');
  for (const u of usages) {
    if (!allowed.includes(u)) throw domError('SyntaxError', `key usage '${u}' is not valid here (allowed: ${allowed.join(', ') || 'none'})`);
  }
}

/** SyntaxError for a secret or private key with no usages (the spec's last step of import/generate). */
export function requireUsages(usages: readonly string[], what: string): void {
  if (usages.length === 0) throw domError('SyntaxError', `a ${what} key needs at least one usage`);
}

/** The spec's checks on a JWK before its key material is looked at. */
export function checkJwk(jwk: JsonWebKey, expect: { kty: string; use?: 'enc' | 'sig'; alg?: string | readonly string[] | undefined; usages: readonly WebKeyUsage[]; extractable: boolean }): void {
  if (jwk.kty !== expect.kty) throw domError('DataError', `JWK kty must be '${expect.kty}'`);
  if (expect.usages.length > 0 && jwk.use !== undefined && jwk.use !== expect.use) throw domError('DataError', `JWK use must be '${expect.use}'`);
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops) || new Set(jwk.key_ops).size !== jwk.key_ops.length) throw domError('DataError', 'JWK key_ops must list distinct operations');
    for (const u of expect.usages) if (!jwk.key_ops.includes(u)) throw domError('DataError', `JWK key_ops does not allow '${u}'`);
  }
  if (jwk.ext === false && expect.extractable) throw domError('DataError', 'JWK ext is false: the key cannot be imported as extractable');
  const algs = expect.alg === undefined ? undefined : typeof expect.alg === 'string' ? [expect.alg] : expect.alg;
  if (algs !== undefined && jwk.alg !== undefined && !algs.includes(jwk.alg)) throw domError('DataError', `JWK alg must be ${algs.map((a) => `'${a}'`).join(' or ')}`);
}

/** base64url without padding. */
export const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
