// src/webcrypto/asymmetric.ts
//
// Import and export of RSA, EC and Ed25519 keys for the providers. Key data is parsed by the client's
// importers (node:crypto checks the format); the new key must then be the kind the algorithm names,
// or it is deleted again and the import fails with DataError. Public keys leave as SPKI, JWK or the
// raw point; private keys never leave (see exportKey in README, "WebCrypto").

import type { KeyHandle } from '../client/key_handle.js';
import type { KeyType as HsmKeyType } from '../client/attributes.js';
import type { KeyInput } from '../keys/import.js';
import type { JsonWebKey } from '../keys/jwk.js';
import { domError, toDomError } from './errors.js';
import { SealedKey, keyAttributes, type HsmKeyOptions, type WebKeyUsage } from './key.js';
import { Unwrapped } from './unwrapped.js';
import { arrayBuffer, checkJwk, checkUsages, requireUsages, view, type FacadeContext } from './params.js';

export interface AsymmetricKind {
  /** The HSM key type and, for EC and Ed25519, the curve the algorithm's key must have. */
  readonly hsmType: HsmKeyType;
  readonly curve?: string;
  readonly jwkKty: 'EC' | 'RSA' | 'OKP';
  readonly jwkUse: 'sig' | 'enc';
  readonly jwkAlg?: string | readonly string[] | undefined;
  readonly privateUsages: readonly WebKeyUsage[];
  readonly publicUsages: readonly WebKeyUsage[];
}

/** importKey for spki, pkcs8, jwk and (EC, Ed25519) raw. `algorithmOf` builds the CryptoKey's
 *  algorithm from the imported key, and may refuse it (DataError). */
export async function importAsymmetric(
  ctx: FacadeContext, kind: AsymmetricKind, format: KeyFormat, keyData: JsonWebKey | BufferSource | Unwrapped, extractable: boolean,
  usages: readonly WebKeyUsage[], options: HsmKeyOptions, algorithmOf: (h: KeyHandle) => Promise<KeyAlgorithm>,
): Promise<SealedKey> {
  const unwrapped = keyData instanceof Unwrapped ? keyData : undefined;
  const isPrivate = format === 'pkcs8' || (format === 'jwk' && (keyData as JsonWebKey).d !== undefined);
  if (format === 'raw' && kind.jwkKty === 'RSA') throw domError('NotSupportedError', 'RSA keys have no raw format');
  checkUsages(usages, isPrivate ? kind.privateUsages : kind.publicUsages);
  if (isPrivate) requireUsages(usages, 'private');
  if (format === 'jwk') checkJwk(keyData as JsonWebKey, { kty: kind.jwkKty, use: kind.jwkUse, alg: kind.jwkAlg, usages, extractable });
  let handle: KeyHandle;
  try {
    const attrs = keyAttributes(isPrivate ? 'private' : 'public', extractable, usages, options);
    if (unwrapped) {
      handle = await unwrapped.unwrap('private-key', kind.hsmType, attrs);
    } else {
      const input = keyInput(format, keyData as JsonWebKey | BufferSource, kind.curve);
      handle = isPrivate ? await ctx.keys.importPrivateKey(input, attrs) : await ctx.keys.importPublicKey(input, attrs);
    }
  } catch (e) {
    const d = toDomError(e, unwrapped ? 'OperationError' : 'DataError');
    throw d instanceof DOMException ? d : domError('DataError', (e as Error).message, e);
  }
  try {
    if (handle.type !== kind.hsmType || (kind.curve !== undefined && handle.curve !== kind.curve)) {
      throw domError('DataError', `the key is ${handle.curve ?? handle.type}, not what ${kind.curve ?? kind.hsmType} needs`);
    }
    const algorithm = await algorithmOf(handle);
    return SealedKey.of(handle, algorithm, isPrivate ? 'private' : 'public', extractable, usages);
  } catch (e) {
    await handle.delete().catch(() => undefined);
    throw e;
  }
}

function keyInput(format: KeyFormat, keyData: JsonWebKey | BufferSource, curve: string | undefined): KeyInput {
  switch (format) {
    case 'spki': return { format: 'der', type: 'spki', data: view(keyData as BufferSource) };
    case 'pkcs8': return { format: 'der', type: 'pkcs8', data: view(keyData as BufferSource) };
    case 'jwk': return { format: 'jwk', jwk: keyData as JsonWebKey };
    case 'raw': return { format: 'raw', curve: curve!, value: view(keyData as BufferSource) };
    default: throw new TypeError(`unknown key format '${String(format)}'`);
  }
}

/** exportKey: public keys as spki, jwk or raw; private keys are refused (the seal's one deviation). */
export async function exportAsymmetric(key: SealedKey, format: KeyFormat, jwkExtras: () => Partial<JsonWebKey> = () => ({})): Promise<ArrayBuffer | JsonWebKey> {
  if (key.type === 'private') {
    if (format === 'spki' || format === 'raw') throw domError('InvalidAccessError', `a private key has no '${format}' form`);
    throw domError('NotSupportedError', 'sealhsm never exports a private key in plaintext; use wrapKey with an extractable key, or export the public key');
  }
  if (format === 'pkcs8') throw domError('InvalidAccessError', "a public key has no 'pkcs8' form");
  switch (format) {
    case 'spki': return arrayBuffer(await key.handle.exportPublicKey('spki'));
    case 'raw': return arrayBuffer(await key.handle.exportPublicKey('raw'));
    case 'jwk': return { ...(await key.handle.exportPublicKey('jwk')), ...jwkExtras(), key_ops: [...key.usages], ext: true };
    default: throw new TypeError(`unknown key format '${String(format)}'`);
  }
}

/** Public key JWK of a key (either half), for the algorithm details (RSA modulus and exponent). */
export async function publicJwk(h: KeyHandle): Promise<JsonWebKey> {
  return h.exportPublicKey('jwk');
}
