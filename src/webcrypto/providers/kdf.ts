// src/webcrypto/providers/kdf.ts
//
// HKDF (W3C Web Cryptography API §33) runs in the HSM on a generic secret (CKM_HKDF_DERIVE; the
// CloudHSM profiles have no HKDF, so there it is not offered). PBKDF2 (§34) stretches a password,
// which is not key material the HSM holds: it runs in @peculiar/webcrypto, and deriveKey imports
// the result into the HSM as the new key (README, "WebCrypto", says so).

import { Crypto as SoftCrypto } from '@peculiar/webcrypto';
import * as core from 'webcrypto-core';

import type { KeyHandle } from '../../client/key_handle.js';
import type { JsonWebKey } from '../../keys/jwk.js';
import { domError, toDomError } from '../errors.js';
import { SealedKey, keyAttributes, keyOptions, sortUsages, type WebKeyUsage } from '../key.js';
import { arrayBuffer, checkUsages, HASH_BYTES, requireUsages, view, WEB_HASHES, webHash, type FacadeContext } from '../params.js';
import type { DerivedKeySpec } from './secret.js';

const USAGES: WebKeyUsage[] = ['deriveKey', 'deriveBits'];

function checkLength(length: number | null): number {
  if (length === null || length === undefined) throw domError('OperationError', 'length is required');
  if (length % 8) throw domError('OperationError', 'length must be a multiple of 8');
  return length / 8;
}

export class HsmHkdfProvider extends core.HkdfProvider {
  readonly #ctx: FacadeContext;

  constructor(ctx: FacadeContext) {
    super();
    this.#ctx = ctx;
  }

  override checkHashAlgorithm(a: Algorithm): void {
    webHash(a);
  }

  override checkDeriveBits(algorithm: HkdfParams, baseKey: CryptoKey, _length: number | null, options: { keyUsage?: boolean } = {}): void {
    this.checkAlgorithmName(algorithm);
    this.checkAlgorithmParams(algorithm);
    this.checkCryptoKey(baseKey, options.keyUsage ? 'deriveBits' : undefined);
  }

  override async onImportKey(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer, _a: Algorithm, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<SealedKey> {
    if (format !== 'raw') throw domError('NotSupportedError', "HKDF keys are imported as 'raw'");
    checkUsages(usages, USAGES);
    requireUsages(usages, 'secret');
    let h: KeyHandle;
    try {
      h = await this.#ctx.keys.importSecret(view(keyData as ArrayBuffer), { type: 'generic-secret', ...keyAttributes('secret', false, usages, keyOptions(options)) });
    } catch (e) {
      throw toDomError(e, 'DataError');
    }
    return SealedKey.of(h, { name: 'HKDF' }, 'secret', extractable, sortUsages(usages));
  }

  override async onDeriveBits(algorithm: HkdfParams, baseKey: SealedKey, length: number | null): Promise<ArrayBuffer> {
    const bytes = checkLength(length);
    if (bytes === 0) return new ArrayBuffer(0);
    const h = await this.#derive(algorithm, baseKey, { type: 'generic-secret', bytes }, { extractable: true, sensitive: false });
    try {
      const v = await h.exportSecretValue();
      const out = arrayBuffer(v);
      v.fill(0);
      return out;
    } finally {
      await h.delete();
    }
  }

  /** deriveKey: the new key is derived in the HSM. */
  deriveInHsm(algorithm: HkdfParams, baseKey: SealedKey, spec: DerivedKeySpec, attrs: object): Promise<KeyHandle> {
    return this.#derive(algorithm, baseKey, spec, attrs);
  }

  #derive(algorithm: HkdfParams, baseKey: SealedKey, spec: DerivedKeySpec, attrs: object): Promise<KeyHandle> {
    const hash = webHash(algorithm.hash);
    if (spec.bytes > 255 * HASH_BYTES[hash]) throw domError('OperationError', `HKDF-${hash} gives at most ${255 * HASH_BYTES[hash]} bytes`);
    return baseKey.handle.deriveHkdf({ type: spec.type, length: spec.bytes, hash: WEB_HASHES[hash], salt: view(algorithm.salt), info: view(algorithm.info), ...attrs });
  }
}

/** A PBKDF2 password key: kept by @peculiar/webcrypto, never in the HSM. */
class PasswordKey extends core.CryptoKey {
  inner!: CryptoKey;
}

export class SoftPbkdf2Provider extends core.Pbkdf2Provider {
  readonly #soft = new SoftCrypto().subtle;

  override checkHashAlgorithm(a: Algorithm): void {
    webHash(a);
  }

  // Zero iterations is the spec's OperationError (webcrypto-core says TypeError), on deriveBits and deriveKey alike.
  override checkAlgorithmParams(algorithm: Pbkdf2Params): void {
    if (typeof algorithm.iterations === 'number' && algorithm.iterations === 0) throw domError('OperationError', 'iterations must not be 0');
    super.checkAlgorithmParams(algorithm);
  }

  override checkDeriveBits(algorithm: Pbkdf2Params, baseKey: CryptoKey, _length: number | null, options: { keyUsage?: boolean } = {}): void {
    this.checkAlgorithmName(algorithm);
    this.checkAlgorithmParams(algorithm);
    this.checkCryptoKey(baseKey, options.keyUsage ? 'deriveBits' : undefined);
  }

  override async onImportKey(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer, _a: Algorithm, extractable: boolean, usages: KeyUsage[]): Promise<PasswordKey> {
    if (format !== 'raw') throw domError('NotSupportedError', "PBKDF2 keys are imported as 'raw'");
    checkUsages(usages, USAGES);
    requireUsages(usages, 'secret');
    const key = PasswordKey.create({ name: 'PBKDF2' }, 'secret', extractable, sortUsages(usages));
    key.inner = await this.#soft.importKey('raw', keyData as ArrayBuffer, 'PBKDF2', false, ['deriveBits']);
    Object.defineProperty(key, 'inner', { enumerable: false });
    return key;
  }

  override async onDeriveBits(algorithm: Pbkdf2Params, baseKey: PasswordKey, length: number | null): Promise<ArrayBuffer> {
    if (checkLength(length) === 0) return new ArrayBuffer(0);
    const hash = webHash(algorithm.hash);
    return this.#soft.deriveBits({ ...algorithm, hash }, baseKey.inner, length!);
  }
}
