// src/webcrypto/key.ts
//
// A Web Crypto CryptoKey that is a handle on the sealed slot, and how Web Crypto's extractable flag
// and usages become the key's PKCS#11 attributes. The seal's rule: a private key is always
// CKA_SENSITIVE (it never leaves in plaintext; extractable only lets it be wrapped); a secret key
// that is not extractable is sensitive and unextractable; an extractable secret key is readable,
// as Web Crypto's exportKey needs.

import * as core from 'webcrypto-core';

import type { KeyAttributes } from '../client/attributes.js';
import { KeyHandle } from '../client/key_handle.js';
import type { HsmKeyOptions } from './types.js';

export type { HsmKeyOptions };

export type WebKeyUsage = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'deriveKey' | 'deriveBits' | 'wrapKey' | 'unwrapKey';
export const USAGE_ORDER: readonly WebKeyUsage[] = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];

/** A CryptoKey whose material stays in the HSM; `handle` is the same key for the `hsm.keys` API. */
export class SealedKey extends core.CryptoKey {
  /** The key on the token. */
  handle!: KeyHandle;

  static of(handle: KeyHandle, algorithm: KeyAlgorithm, type: KeyType, extractable: boolean, usages: readonly WebKeyUsage[]): SealedKey {
    const key = SealedKey.create(algorithm, type, extractable, sortUsages(usages));
    Object.defineProperty(key, 'handle', { value: handle, enumerable: false, writable: false });
    return key;
  }
}

/** Usages without repeats, in one stable order. */
export function sortUsages(usages: readonly string[]): WebKeyUsage[] {
  return USAGE_ORDER.filter((u) => usages.includes(u));
}

const PUBLIC_FLAGS = ['encrypt', 'verify', 'wrap'] as const;
const PRIVATE_FLAGS = ['decrypt', 'sign', 'unwrap', 'derive'] as const;

/** The PKCS#11 attributes for a key of this kind with these Web Crypto usages ('pair': both halves
 *  of a generated pair, each of which takes the flags its class has). */
export function keyAttributes(kind: KeyType | 'pair', extractable: boolean, usages: readonly string[], options: HsmKeyOptions = {}): KeyAttributes {
  const has = (u: WebKeyUsage): boolean => usages.includes(u);
  const secrecy = kind === 'secret' ? { extractable, sensitive: !extractable } : kind === 'public' ? {} : { extractable, sensitive: true };
  const flags = {
    encrypt: has('encrypt'), decrypt: has('decrypt'), sign: has('sign'), verify: has('verify'),
    wrap: has('wrapKey'), unwrap: has('unwrapKey'), derive: has('deriveKey') || has('deriveBits'),
  };
  const drop: readonly string[] = kind === 'private' ? PUBLIC_FLAGS : kind === 'public' ? PRIVATE_FLAGS : [];
  return {
    ...secrecy,
    ...Object.fromEntries(Object.entries(flags).filter(([k]) => !drop.includes(k))),
    token: options.token ?? false,
    ...(options.label !== undefined && { label: options.label }),
    ...(options.id !== undefined && { id: options.id }),
  };
}

/** The options argument, checked. */
export function keyOptions(v: unknown): HsmKeyOptions {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object') throw new TypeError('key options must be an object { token, label, id }');
  const o = v as Record<string, unknown>;
  if (o.token !== undefined && typeof o.token !== 'boolean') throw new TypeError('token must be a boolean');
  if (o.label !== undefined && typeof o.label !== 'string') throw new TypeError('label must be a string');
  if (o.id !== undefined && !(o.id instanceof Uint8Array)) throw new TypeError('id must be a Uint8Array');
  return o as HsmKeyOptions;
}

/** The HSM handle of a CryptoKey made by `hsm.subtle`. */
export function handleOf(key: unknown): KeyHandle {
  if (!(key instanceof SealedKey)) throw new TypeError('not a CryptoKey of this HSM (make it with hsm.subtle or hsm.subtle.fromHandle)');
  return key.handle;
}
