// src/webcrypto/providers/hmac.ts
//
// HMAC (W3C Web Cryptography API §31) on generic secrets in the HSM; verification is the HSM's
// constant-time C_Verify. Key lengths are whole bytes (PKCS#11 keys are); another length is an
// OperationError.

import * as core from 'webcrypto-core';

import type { SimpleSignMechanism } from '../../client/mechanisms.js';
import type { JsonWebKey } from '../../keys/jwk.js';
import { domError } from '../errors.js';
import { SealedKey, keyAttributes, keyOptions, sortUsages, type WebKeyUsage } from '../key.js';
import { arrayBuffer, checkUsages, HASH_BLOCK_BITS, requireUsages, view, WEB_HASHES, webHash, type WebHash, type FacadeContext } from '../params.js';
import { exportSecret, importSecret, secretBytes, type DerivedKeySpec } from './secret.js';

const USAGES: WebKeyUsage[] = ['sign', 'verify'];
const jwkAlg = (h: WebHash): string => (h === 'SHA-1' ? 'HS1' : `HS${h.slice(4)}`);

// A zero length is an OperationError when generating and a TypeError when deriving (the spec's
// "get key length"); `zero` says which.
function lengthBits(length: number | undefined, hash: WebHash, zero: () => Error = () => domError('OperationError', 'length must not be 0')): number {
  if (length === undefined) return HASH_BLOCK_BITS[hash];
  if (length === 0) throw zero();
  if (length % 8) throw domError('OperationError', 'HMAC keys in the HSM are whole bytes: length must be a multiple of 8');
  return length;
}

export class HsmHmacProvider extends core.HmacProvider {
  readonly #ctx: FacadeContext;

  constructor(ctx: FacadeContext) {
    super();
    this.#ctx = ctx;
  }

  override checkHashAlgorithm(a: Algorithm): void {
    webHash(a);
  }

  override checkGenerateKeyParams(algorithm: HmacKeyGenParams): void {
    webHash(algorithm.hash);
    if (algorithm.length !== undefined && typeof algorithm.length !== 'number') throw new TypeError('length: Is not a Number');
  }

  override async onGenerateKey(algorithm: HmacKeyGenParams, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<SealedKey> {
    checkUsages(usages, USAGES);
    requireUsages(usages, 'secret');
    const hash = webHash(algorithm.hash);
    const bits = lengthBits(algorithm.length, hash);
    const h = await this.#ctx.keys.generateGenericSecret({ length: bits / 8, ...keyAttributes('secret', extractable, usages, keyOptions(options)) });
    return SealedKey.of(h, { name: 'HMAC', hash: { name: hash }, length: bits } as HmacKeyAlgorithm, 'secret', extractable, usages as WebKeyUsage[]);
  }

  override async onImportKey(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer, algorithm: HmacImportParams, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<SealedKey> {
    const hash = webHash(algorithm.hash);
    const source = secretBytes(format, keyData, { alg: jwkAlg(hash), use: 'sig' }, extractable, usages as WebKeyUsage[]);
    const algorithmFor = (n: number): HmacKeyAlgorithm => {
      if (n === 0) throw domError('DataError', 'an HMAC key cannot be empty');
      let bits = n * 8;
      if (algorithm.length !== undefined) {
        if (algorithm.length > bits || algorithm.length <= bits - 8) throw domError('DataError', `length ${algorithm.length} does not match the ${n}-byte key`);
        bits = lengthBits(algorithm.length, hash);
      }
      return { name: 'HMAC', hash: { name: hash }, length: bits } as HmacKeyAlgorithm;
    };
    return importSecret(this.#ctx, 'generic-secret', source, algorithmFor, extractable, sortUsages(usages), USAGES, keyOptions(options));
  }

  override onExportKey(format: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> {
    return exportSecret(key, format, jwkAlg((key.algorithm as HmacKeyAlgorithm).hash.name as WebHash));
  }

  override async onSign(_a: Algorithm, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> {
    return arrayBuffer(await key.handle.sign(view(data), mechanism(key)));
  }

  override async onVerify(_a: Algorithm, key: SealedKey, signature: ArrayBuffer, data: ArrayBuffer): Promise<boolean> {
    return key.handle.verify(view(data), view(signature), mechanism(key));
  }

  derivedKeySpec(algorithm: Algorithm): DerivedKeySpec {
    const a = algorithm as HmacImportParams;
    const hash = webHash(a.hash);
    const bits = lengthBits(a.length, hash, () => new TypeError('length must not be 0'));
    return { type: 'generic-secret', bytes: bits / 8, algorithm: { name: 'HMAC', hash: { name: hash }, length: bits } as HmacKeyAlgorithm, usages: USAGES };
  }
}

function mechanism(key: CryptoKey): SimpleSignMechanism {
  const h = WEB_HASHES[(key.algorithm as HmacKeyAlgorithm).hash.name as WebHash];
  return h === 'SHA1' ? 'SHA_1_HMAC' : `${h}_HMAC`;
}
