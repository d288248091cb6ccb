// src/webcrypto/providers/secret.ts
//
// What the secret-key algorithms (AES-*, HMAC) share: raw and JWK ('oct') import and export, and the
// spec's "get key length" for deriveKey, expressed as the HSM key to derive.

import type { KeyHandle } from '../../client/key_handle.js';
import type { WrapMechanism } from '../../client/mechanisms.js';
import type { JsonWebKey } from '../../keys/jwk.js';
import { domError, toDomError } from '../errors.js';
import { SealedKey, keyAttributes, type HsmKeyOptions, type WebKeyUsage } from '../key.js';
import { Unwrapped } from '../unwrapped.js';
import { arrayBuffer, b64u, checkJwk, checkUsages, requireUsages, view, type FacadeContext } from '../params.js';

/** The key deriveKey makes: its HSM type and length, and the CryptoKey algorithm it gets. */
export interface DerivedKeySpec {
  readonly type: 'aes' | 'generic-secret';
  readonly bytes: number;
  readonly algorithm?: KeyAlgorithm;
  readonly usages?: readonly WebKeyUsage[];
}

/** A provider that can be the target of deriveKey and unwrapKey('raw'). */
export interface SecretKeyProvider {
  readonly name: string;
  derivedKeySpec(algorithm: Algorithm): DerivedKeySpec;
}

/** A provider whose algorithm can wrap keys inside the HSM. */
export interface WrappingProvider {
  readonly name: string;
  wrapMechanism(algorithm: Algorithm, wrappingKey: SealedKey): WrapMechanism;
}

export function isSecretKeyProvider(p: unknown): p is SecretKeyProvider {
  return typeof (p as SecretKeyProvider).derivedKeySpec === 'function';
}
export function isWrappingProvider(p: unknown): p is WrappingProvider {
  return typeof (p as WrappingProvider).wrapMechanism === 'function';
}

/** Raw bytes of an import in format 'raw' or 'jwk' (kty 'oct'), after the spec's JWK checks. */
export function secretBytes(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer | Unwrapped, jwk: { alg: string | undefined; use: 'enc' | 'sig' }, extractable: boolean, usages: readonly WebKeyUsage[]): Uint8Array | Unwrapped {
  if (keyData instanceof Unwrapped) return keyData;
  if (format === 'raw') return view(keyData as ArrayBuffer);
  if (format !== 'jwk') throw domError('NotSupportedError', `a secret key cannot be imported as '${format}'`);
  const j = keyData as JsonWebKey;
  checkJwk(j, { kty: 'oct', use: jwk.use, alg: jwk.alg, usages, extractable });
  if (typeof j.k !== 'string') throw domError('DataError', "JWK member 'k' is missing");
  return Uint8Array.from(Buffer.from(j.k, 'base64url'));
}

/** Creates the secret key in the HSM from bytes (what the HSM refuses is a DataError) or by
 *  unwrapping it there (a failure is an OperationError). `algorithmFor` gets the key's length in
 *  bytes and returns the CryptoKey's algorithm, or throws DataError for a length it cannot take. */
export async function importSecret(ctx: FacadeContext, type: 'aes' | 'generic-secret', source: Uint8Array | Unwrapped, algorithmFor: (bytes: number) => KeyAlgorithm,
  extractable: boolean, usages: readonly WebKeyUsage[], allowed: readonly WebKeyUsage[], options: HsmKeyOptions): Promise<SealedKey> {
  checkUsages(usages, allowed);
  requireUsages(usages, 'secret');
  const attrs = { type, ...keyAttributes('secret', extractable, usages, options) };
  if (source instanceof Unwrapped) {
    let h: KeyHandle;
    try {
      h = await source.unwrap('secret-key', type, attrs);
    } catch (e) {
      throw toDomError(e, 'OperationError');
    }
    try {
      return SealedKey.of(h, algorithmFor((await h.info()).bits / 8), 'secret', extractable, usages);
    } catch (e) {
      await h.delete().catch(() => undefined);
      throw e;
    }
  }
  const algorithm = algorithmFor(source.length);
  let h: KeyHandle;
  try {
    h = await ctx.keys.importSecret(source, attrs);
  } catch (e) {
    throw toDomError(e, 'DataError');
  }
  return SealedKey.of(h, algorithm, 'secret', extractable, usages);
}

/** exportKey of a secret key: the value as raw bytes or a JWK. */
export async function exportSecret(key: SealedKey, format: KeyFormat, alg: string | undefined): Promise<ArrayBuffer | JsonWebKey> {
  if (format !== 'raw' && format !== 'jwk') throw domError('NotSupportedError', `a secret key cannot be exported as '${format}'`);
  const value = await key.handle.exportSecretValue();
  try {
    if (format === 'raw') return arrayBuffer(value);
    return { kty: 'oct', k: b64u(value), ...(alg !== undefined && { alg }), key_ops: [...key.usages], ext: true };
  } finally {
    value.fill(0);
  }
}
