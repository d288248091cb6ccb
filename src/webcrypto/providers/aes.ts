// src/webcrypto/providers/aes.ts
//
// AES-GCM, AES-CBC, AES-CTR and AES-KW (W3C Web Cryptography API §27–§30) on AES keys in the HSM.
// AES-CBC is the spec's PKCS#7-padded CBC (CKM_AES_CBC_PAD); AES-KW is RFC 3394 (CKM_AES_KEY_WRAP,
// or CloudHSM's CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD, the same algorithm). The CloudHSM profiles choose
// every GCM IV in the HSM and ignore the caller's, as CloudHSM does; Web Crypto's caller chooses it,
// so GCM encryption there is NotSupportedError (decryption works).

import * as core from 'webcrypto-core';

import type { EncryptMechanism, WrapMechanism } from '../../client/mechanisms.js';
import type { JsonWebKey } from '../../keys/jwk.js';
import { domError } from '../errors.js';
import { SealedKey, keyAttributes, keyOptions, sortUsages, type WebKeyUsage } from '../key.js';
import { arrayBuffer, checkUsages, requireUsages, view, type FacadeContext } from '../params.js';
import { exportSecret, importSecret, secretBytes, type DerivedKeySpec } from './secret.js';

const LENGTHS = [128, 192, 256];

/** Key management shared by the four AES providers. */
class AesKeys {
  constructor(readonly ctx: FacadeContext, readonly name: string, readonly jwkSuffix: string, readonly usages: readonly WebKeyUsage[]) {}

  async generate(algorithm: AesKeyGenParams, extractable: boolean, usages: KeyUsage[], options: unknown): Promise<SealedKey> {
    checkUsages(usages, this.usages);
    requireUsages(usages, 'secret');
    const bits = algorithm.length as 128 | 192 | 256;
    const h = await this.ctx.keys.generateAes({ bits, ...keyAttributes('secret', extractable, usages, keyOptions(options)) });
    return SealedKey.of(h, { name: this.name, length: bits } as AesKeyAlgorithm, 'secret', extractable, usages as WebKeyUsage[]);
  }

  async import(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer, extractable: boolean, usages: KeyUsage[], options: unknown): Promise<SealedKey> {
    const jwkAlg = format === 'jwk' ? this.#jwkAlgFor(keyData as JsonWebKey) : undefined;
    const source = secretBytes(format, keyData, { alg: jwkAlg, use: 'enc' }, extractable, usages as WebKeyUsage[]);
    const algorithmFor = (n: number): AesKeyAlgorithm => {
      if (!LENGTHS.includes(n * 8)) throw domError('DataError', `an AES key is 16, 24 or 32 bytes, not ${n}`);
      return { name: this.name, length: n * 8 } as AesKeyAlgorithm;
    };
    return importSecret(this.ctx, 'aes', source, algorithmFor, extractable, sortUsages(usages), this.usages, keyOptions(options));
  }

  async export(format: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> {
    return exportSecret(key, format, `A${(key.algorithm as AesKeyAlgorithm).length}${this.jwkSuffix}`);
  }

  derivedKeySpec(algorithm: Algorithm): DerivedKeySpec {
    const length = (algorithm as AesDerivedKeyParams).length;
    if (typeof length !== 'number') throw new TypeError('length: Missing required property');
    if (!LENGTHS.includes(length)) throw domError('OperationError', 'length must be 128, 192 or 256');
    return { type: 'aes', bytes: length / 8, algorithm: { name: this.name, length } as AesKeyAlgorithm, usages: this.usages };
  }

  #jwkAlgFor(jwk: JsonWebKey): string | undefined {
    const k = typeof jwk.k === 'string' ? Buffer.from(jwk.k, 'base64url').length * 8 : 0;
    return LENGTHS.includes(k) ? `A${k}${this.jwkSuffix}` : undefined;
  }
}

/** The spec's IV / counter checks: TypeError when missing, OperationError for a wrong length. */
function block16(v: unknown, member: string): void {
  if (v === undefined) throw new TypeError(`${member}: Missing required property`);
  if (!(v instanceof ArrayBuffer) && !ArrayBuffer.isView(v)) throw new TypeError(`${member} must be a BufferSource`);
  if (v.byteLength !== 16) throw domError('OperationError', `${member} must be 16 bytes`);
}

function aesLength(algorithm: AesKeyGenParams): void {
  if (typeof algorithm.length !== 'number') throw new TypeError('length: Missing required property');
  if (!LENGTHS.includes(algorithm.length)) throw domError('OperationError', 'length must be 128, 192 or 256');
}

const cipherUsages: WebKeyUsage[] = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];

export class HsmAesGcmProvider extends core.AesGcmProvider {
  readonly #k: AesKeys;
  constructor(ctx: FacadeContext) { super(); this.#k = new AesKeys(ctx, 'AES-GCM', 'GCM', cipherUsages); }
  override checkGenerateKeyParams(a: AesKeyGenParams): void { aesLength(a); }
  override onGenerateKey(a: AesKeyGenParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.generate(a, e, u, o); }
  override onImportKey(f: KeyFormat, d: JsonWebKey | ArrayBuffer, _a: Algorithm, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.import(f, d, e, u, o); }
  override onExportKey(f: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> { return this.#k.export(f, key); }
  derivedKeySpec(a: Algorithm): DerivedKeySpec { return this.#k.derivedKeySpec(a); }

  override async onEncrypt(algorithm: AesGcmParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> {
    const { ciphertext } = await key.handle.encrypt(view(data), this.#mechanism(algorithm, 'encrypt') as { name: 'AES_GCM' });
    return arrayBuffer(ciphertext);
  }

  override async onDecrypt(algorithm: AesGcmParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> {
    const tagBytes = (algorithm.tagLength ?? 128) / 8;
    if (data.byteLength < tagBytes) throw domError('OperationError', 'the ciphertext is shorter than its tag');
    return arrayBuffer(await key.handle.decrypt(view(data), this.#mechanism(algorithm, 'decrypt')));
  }

  wrapMechanism(algorithm: AesGcmParams): WrapMechanism {
    return this.#mechanism(algorithm, 'encrypt');
  }

  #mechanism(algorithm: AesGcmParams, op: 'encrypt' | 'decrypt'): EncryptMechanism {
    if (op === 'encrypt' && this.#k.ctx.profile.startsWith('cloudhsm')) {
      throw domError('NotSupportedError', "the CloudHSM profiles choose the AES-GCM IV in the HSM and ignore the caller's, so Web Crypto's AES-GCM encryption cannot be honoured; use hsm.keys (encrypt returns the IV) or a token with the pkcs11 profile");
    }
    return {
      name: 'AES_GCM', iv: view(algorithm.iv), tagBits: algorithm.tagLength ?? 128,
      ...(algorithm.additionalData !== undefined && { aad: view(algorithm.additionalData) }),
    };
  }
}

export class HsmAesCbcProvider extends core.AesCbcProvider {
  readonly #k: AesKeys;
  constructor(ctx: FacadeContext) { super(); this.#k = new AesKeys(ctx, 'AES-CBC', 'CBC', cipherUsages); }
  override checkGenerateKeyParams(a: AesKeyGenParams): void { aesLength(a); }
  override checkAlgorithmParams(a: AesCbcParams): void { block16(a.iv, 'iv'); }
  override onGenerateKey(a: AesKeyGenParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.generate(a, e, u, o); }
  override onImportKey(f: KeyFormat, d: JsonWebKey | ArrayBuffer, _a: Algorithm, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.import(f, d, e, u, o); }
  override onExportKey(f: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> { return this.#k.export(f, key); }
  derivedKeySpec(a: Algorithm): DerivedKeySpec { return this.#k.derivedKeySpec(a); }
  override async onEncrypt(a: AesCbcParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> { return arrayBuffer(await key.handle.encrypt(view(data), this.wrapMechanism(a))); }
  override async onDecrypt(a: AesCbcParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> { return arrayBuffer(await key.handle.decrypt(view(data), this.wrapMechanism(a))); }
  wrapMechanism(a: AesCbcParams): { name: 'AES_CBC_PAD'; iv: Uint8Array } { return { name: 'AES_CBC_PAD', iv: view(a.iv) }; }
}

export class HsmAesCtrProvider extends core.AesCtrProvider {
  readonly #k: AesKeys;
  constructor(ctx: FacadeContext) { super(); this.#k = new AesKeys(ctx, 'AES-CTR', 'CTR', cipherUsages); }
  override checkGenerateKeyParams(a: AesKeyGenParams): void { aesLength(a); }
  override checkAlgorithmParams(a: AesCtrParams): void {
    block16(a.counter, 'counter');
    if (typeof a.length !== 'number') throw new TypeError('length: Missing required property');
    if (a.length < 1 || a.length > 128) throw domError('OperationError', 'length (the counter bits) must be 1..128');
  }
  override onGenerateKey(a: AesKeyGenParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.generate(a, e, u, o); }
  override onImportKey(f: KeyFormat, d: JsonWebKey | ArrayBuffer, _a: Algorithm, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.import(f, d, e, u, o); }
  override onExportKey(f: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> { return this.#k.export(f, key); }
  derivedKeySpec(a: Algorithm): DerivedKeySpec { return this.#k.derivedKeySpec(a); }
  override async onEncrypt(a: AesCtrParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> { return arrayBuffer(await key.handle.encrypt(view(data), this.wrapMechanism(a))); }
  override async onDecrypt(a: AesCtrParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> { return arrayBuffer(await key.handle.decrypt(view(data), this.wrapMechanism(a))); }
  wrapMechanism(a: AesCtrParams): { name: 'AES_CTR'; iv: Uint8Array; counterBits: number } { return { name: 'AES_CTR', iv: view(a.counter), counterBits: a.length }; }
}

export class HsmAesKwProvider extends core.AesKwProvider {
  readonly #k: AesKeys;
  constructor(ctx: FacadeContext) { super(); this.#k = new AesKeys(ctx, 'AES-KW', 'KW', ['wrapKey', 'unwrapKey']); }
  override checkGenerateKeyParams(a: AesKeyGenParams): void { aesLength(a); }
  override onGenerateKey(a: AesKeyGenParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.generate(a, e, u, o); }
  override onImportKey(f: KeyFormat, d: JsonWebKey | ArrayBuffer, _a: Algorithm, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.import(f, d, e, u, o); }
  override onExportKey(f: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> { return this.#k.export(f, key); }
  derivedKeySpec(a: Algorithm): DerivedKeySpec { return this.#k.derivedKeySpec(a); }
  wrapMechanism(): WrapMechanism {
    return this.#k.ctx.has('CKM_AES_KEY_WRAP') ? 'AES_KEY_WRAP' : 'CLOUDHSM_AES_KEY_WRAP_NO_PAD';
  }
}
