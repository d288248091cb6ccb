// src/webcrypto/types.ts
//
// The public types of the Web Crypto facade, written against node:crypto's `webcrypto` types so
// that users need neither the DOM lib nor webcrypto-core's declarations. The implementation
// (subtle.ts) satisfies them; hsm.ts hands it out under these names.

import type { webcrypto } from 'node:crypto';

import type { KeyHandle } from '../client/key_handle.js';

/** Where a key made through `hsm.subtle` lives: the 4th argument of generateKey, the 6th of
 *  importKey, unwrapKey and deriveKey (an extension: Web Crypto keys otherwise live as long as this
 *  client's sessions). */
export interface HsmKeyOptions {
  /** Keep the key in the token (persistent tokens survive restarts). Default false. */
  readonly token?: boolean;
  readonly label?: string;
  /** CKA_ID. Key pairs made in the token without one get the SHA-1 of their public key (the RFC 5280
   *  key identifier), which is how certificates on the token find their key. */
  readonly id?: Uint8Array;
}


/** A CryptoKey whose material is in the HSM. */
export interface HsmCryptoKey extends webcrypto.CryptoKey {
  /** The same key for the `hsm.keys` API. */
  readonly handle: KeyHandle;
}

type Usages = readonly webcrypto.KeyUsage[];
// Spelled out: @types/node 26 no longer exports webcrypto.BufferSource.
type Bytes = ArrayBufferView | ArrayBuffer;
type ImportAlgorithm = webcrypto.AlgorithmIdentifier | webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.HmacImportParams | webcrypto.AesKeyAlgorithm;

/** A W3C SubtleCrypto whose keys live in the HSM. generateKey and importKey take an extra last
 *  argument, `{ token, label, id }`, to make the key a (persistent) token key. */
export interface HsmSubtleCrypto extends webcrypto.SubtleCrypto {
  /** The algorithm names this HSM's profile offers. */
  readonly algorithms: string[];
  generateKey(algorithm: 'Ed25519' | { name: 'Ed25519' }, extractable: boolean, keyUsages: readonly ('sign' | 'verify')[], options?: HsmKeyOptions): Promise<webcrypto.CryptoKeyPair>;
  generateKey(algorithm: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams, extractable: boolean, keyUsages: Usages, options?: HsmKeyOptions): Promise<webcrypto.CryptoKeyPair>;
  generateKey(algorithm: webcrypto.AesKeyGenParams | webcrypto.HmacKeyGenParams | webcrypto.Pbkdf2Params, extractable: boolean, keyUsages: Usages, options?: HsmKeyOptions): Promise<webcrypto.CryptoKey>;
  generateKey(algorithm: webcrypto.AlgorithmIdentifier, extractable: boolean, keyUsages: webcrypto.KeyUsage[], options?: HsmKeyOptions): Promise<webcrypto.CryptoKeyPair | webcrypto.CryptoKey>;
  importKey(format: 'jwk', keyData: webcrypto.JsonWebKey, algorithm: ImportAlgorithm, extractable: boolean, keyUsages: Usages, options?: HsmKeyOptions): Promise<webcrypto.CryptoKey>;
  importKey(format: Exclude<webcrypto.KeyFormat, 'jwk'>, keyData: Bytes, algorithm: ImportAlgorithm, extractable: boolean, keyUsages: webcrypto.KeyUsage[], options?: HsmKeyOptions): Promise<webcrypto.CryptoKey>;
  /** A CryptoKey for a key on the token. `algorithm` defaults by key type: ECDSA, Ed25519,
   *  RSASSA-PKCS1-v1_5 (SHA-256), AES-GCM, HMAC (SHA-256). Usages come from the key's attributes. */
  fromHandle(handle: KeyHandle, algorithm?: webcrypto.AlgorithmIdentifier | (webcrypto.Algorithm & { hash?: webcrypto.AlgorithmIdentifier })): Promise<HsmCryptoKey>;
  /** The HSM key behind a CryptoKey made by this facade. */
  handleOf(key: webcrypto.CryptoKey): KeyHandle;
}

/** A W3C Crypto (for pkijs' CryptoEngine, @peculiar/x509's cryptoProvider, and the like). */
export interface HsmCrypto extends webcrypto.Crypto {
  readonly subtle: HsmSubtleCrypto;
  /** node:crypto's CSPRNG (Web Crypto's getRandomValues is synchronous; `hsm.random()` is the HSM's). */
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
}
