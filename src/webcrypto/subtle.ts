// src/webcrypto/subtle.ts
//
// The SubtleCrypto of an HSM: webcrypto-core's dispatch and parameter checks, with the spec's own
// steps in front of them (algorithm normalization per operation, key/algorithm and usage checks,
// error names) and three operations done inside the HSM rather than through exported bytes:
// deriveKey (the derived key is made in the HSM), wrapKey and unwrapKey (C_WrapKey / C_UnwrapKey
// for raw secret keys and PKCS#8 private keys).

import * as core from 'webcrypto-core';

import type { KeyAttributes, KeyType as HsmKeyType } from '../client/attributes.js';
import type { KeyHandle } from '../client/key_handle.js';
import type { JsonWebKey } from '../keys/jwk.js';
import { domError, step } from './errors.js';
import { SealedKey, keyAttributes, keyOptions, USAGE_ORDER, type WebKeyUsage } from './key.js';
import { checkUsages, requireUsages, view, type FacadeContext } from './params.js';
import { HsmAesCbcProvider, HsmAesCtrProvider, HsmAesGcmProvider, HsmAesKwProvider } from './providers/aes.js';
import { HsmEcdhProvider, HsmEcdsaProvider, HsmEd25519Provider } from './providers/ec.js';
import { HsmHmacProvider } from './providers/hmac.js';
import { HsmHkdfProvider, SoftPbkdf2Provider } from './providers/kdf.js';
import { HsmRsaOaepProvider, HsmRsaPssProvider, HsmRsaSsaProvider } from './providers/rsa.js';
import { isSecretKeyProvider, isWrappingProvider, type DerivedKeySpec } from './providers/secret.js';
import { HsmShaProvider } from './providers/sha.js';
import { Unwrapped } from './unwrapped.js';

type Op = 'generateKey' | 'importKey' | 'exportKey' | 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'deriveBits' | 'digest' | 'wrapKey' | 'unwrapKey' | 'get key length';

// The provider method that implements each operation (webcrypto-core's base throws for the rest).
const HOOKS: Record<Exclude<Op, 'wrapKey' | 'unwrapKey' | 'get key length'>, keyof core.ProviderCrypto> = {
  generateKey: 'onGenerateKey', importKey: 'onImportKey', exportKey: 'onExportKey', sign: 'onSign', verify: 'onVerify',
  encrypt: 'onEncrypt', decrypt: 'onDecrypt', deriveBits: 'onDeriveBits', digest: 'onDigest',
};

/** Each provider and the PKCS#11 mechanisms it needs from the profile. */
function providers(ctx: FacadeContext): core.ProviderCrypto[] {
  const table: Array<[core.ProviderCrypto, readonly string[]]> = [
    [new HsmEcdsaProvider(ctx), ['CKM_ECDSA_SHA256']],
    [new HsmEcdhProvider(ctx), ['CKM_ECDH1_DERIVE']],
    [new HsmEd25519Provider(ctx), ['CKM_EDDSA']],
    [new HsmRsaSsaProvider(ctx), ['CKM_SHA256_RSA_PKCS']],
    [new HsmRsaPssProvider(ctx), ['CKM_SHA256_RSA_PKCS_PSS']],
    [new HsmRsaOaepProvider(ctx), ['CKM_RSA_PKCS_OAEP']],
    [new HsmAesGcmProvider(ctx), ['CKM_AES_GCM']],
    [new HsmAesCbcProvider(ctx), ['CKM_AES_CBC_PAD']],
    [new HsmAesCtrProvider(ctx), ['CKM_AES_CTR']],
    [new HsmAesKwProvider(ctx), [ctx.has('CKM_AES_KEY_WRAP') ? 'CKM_AES_KEY_WRAP' : 'CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD']],
    [new HsmHmacProvider(ctx), ['CKM_SHA256_HMAC']],
    [new HsmHkdfProvider(ctx), ['CKM_HKDF_DERIVE']],
    [new SoftPbkdf2Provider(), []],
    ...(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const).map((h): [core.ProviderCrypto, string[]] => [new HsmShaProvider(ctx, h), []]),
  ];
  return table.filter(([, mechs]) => mechs.every((m) => ctx.has(m))).map(([p]) => p);
}

type InHsmDeriver = { deriveInHsm(algorithm: Algorithm, baseKey: SealedKey, spec: DerivedKeySpec, attrs: object): Promise<KeyHandle> };
const derivesInHsm = (p: unknown): p is InHsmDeriver => typeof (p as InHsmDeriver).deriveInHsm === 'function';

/** Every usage a provider allows (both halves for key pairs). */
function allowedUsages(p: core.ProviderCrypto): WebKeyUsage[] {
  const u = (p as unknown as { usages: KeyUsage[] | { privateKey: KeyUsage[]; publicKey: KeyUsage[] } }).usages;
  return (Array.isArray(u) ? u : [...u.privateKey, ...u.publicKey]) as WebKeyUsage[];
}

function usageList(usages: unknown): WebKeyUsage[] {
  if (usages === null || typeof usages !== 'object' || typeof (usages as Iterable<unknown>)[Symbol.iterator] !== 'function') throw new TypeError('keyUsages must be a sequence of KeyUsage');
  const list = [...(usages as Iterable<unknown>)];
  for (const u of list) if (!USAGE_ORDER.includes(u as WebKeyUsage)) throw new TypeError(`'${String(u)}' is not a KeyUsage`);
  return [...new Set(list as WebKeyUsage[])];
}

const FORMATS: readonly string[] = ['raw', 'spki', 'pkcs8', 'jwk'];
function keyFormat(f: unknown): KeyFormat {
  if (typeof f !== 'string' || !FORMATS.includes(f)) throw new TypeError(`'${String(f)}' is not a KeyFormat (raw, spki, pkcs8, jwk)`);
  return f as KeyFormat;
}

/** A copy of the caller's bytes, as the spec asks ("get a copy of the bytes held by"). */
function copy(data: unknown): ArrayBuffer {
  if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) throw new TypeError('expected an ArrayBuffer or ArrayBufferView');
  return view(data as BufferSource).slice().buffer;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the overrides accept what webcrypto-core's overloads accept */
export class HsmSubtle extends core.SubtleCrypto {
  readonly #ctx: FacadeContext;

  constructor(ctx: FacadeContext) {
    super();
    this.#ctx = ctx;
    for (const p of providers(ctx)) this.providers.set(p);
  }

  /** The algorithm names this HSM's profile offers. */
  get algorithms(): string[] {
    return this.providers.algorithms;
  }

  override digest(...args: any[]): Promise<ArrayBuffer> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 2, 'digest');
      const [alg, p] = this.#normalize(args[0], 'digest');
      return p.digest(alg, copy(args[1]));
    });
  }

  override generateKey(...args: any[]): Promise<any> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 3, 'generateKey');
      const [alg, p] = this.#normalize(args[0], 'generateKey');
      const usages = usageList(args[2]);
      checkUsages(usages, allowedUsages(p));
      requireUsages(usages, 'generated');
      return p.generateKey(alg, Boolean(args[1]), usages, keyOptions(args[3]));
    });
  }

  override importKey(...args: any[]): Promise<any> {
    return step('DataError', async () => {
      this.checkRequiredArguments(args, 5, 'importKey');
      const format = keyFormat(args[0]);
      let data: JsonWebKey | ArrayBuffer;
      if (format === 'jwk') {
        if (args[1] === null || typeof args[1] !== 'object' || ArrayBuffer.isView(args[1]) || args[1] instanceof ArrayBuffer) throw new TypeError('a JWK must be an object');
        data = { ...(args[1] as JsonWebKey) };
      } else {
        data = copy(args[1]);
      }
      const [alg, p] = this.#normalize(args[2], 'importKey');
      const usages = usageList(args[4]);
      checkUsages(usages, allowedUsages(p));
      // Every algorithm's JWK import checks kty first: a JWK without one is DataError, not a TypeError.
      if (format === 'jwk' && typeof (data as JsonWebKey).kty !== 'string') throw domError('DataError', "JWK member 'kty' is missing");
      return p.importKey(format, data, alg, Boolean(args[3]), usages, keyOptions(args[5]));
    });
  }

  override exportKey(...args: any[]): Promise<any> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 2, 'exportKey');
      const format = keyFormat(args[0]);
      const key = this.#key(args[1]);
      const p = this.getProvider(key.algorithm.name);
      if (!this.#supports(p, 'exportKey')) throw domError('NotSupportedError', `${key.algorithm.name} keys cannot be exported`);
      if (!key.extractable) throw domError('InvalidAccessError', 'the key is not extractable');
      return p.onExportKey(format, key);
    });
  }

  override sign(...args: any[]): Promise<ArrayBuffer> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 3, 'sign');
      const [alg, p] = this.#normalize(args[0], 'sign');
      const key = this.#keyFor(args[1], alg, 'sign');
      return p.sign(alg, key, copy(args[2]));
    });
  }

  override verify(...args: any[]): Promise<boolean> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 4, 'verify');
      const [alg, p] = this.#normalize(args[0], 'verify');
      const key = this.#keyFor(args[1], alg, 'verify');
      return p.verify(alg, key, copy(args[2]), copy(args[3]));
    });
  }

  override encrypt(...args: any[]): Promise<ArrayBuffer> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 3, 'encrypt');
      const [alg, p] = this.#normalize(args[0], 'encrypt');
      const key = this.#keyFor(args[1], alg, 'encrypt');
      return p.encrypt(alg, key, copy(args[2]), { keyUsage: true });
    });
  }

  override decrypt(...args: any[]): Promise<ArrayBuffer> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 3, 'decrypt');
      const [alg, p] = this.#normalize(args[0], 'decrypt');
      const key = this.#keyFor(args[1], alg, 'decrypt');
      return p.decrypt(alg, key, copy(args[2]), { keyUsage: true });
    });
  }

  override deriveBits(...args: any[]): Promise<ArrayBuffer> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 2, 'deriveBits');
      const [alg, p] = this.#normalize(args[0], 'deriveBits');
      const key = this.#keyFor(args[1], alg, 'deriveBits');
      const length = args[2] === undefined ? null : args[2];
      if (length !== null && (typeof length !== 'number' || !Number.isInteger(length) || length < 0)) throw new TypeError('length must be an unsigned integer or null');
      return p.deriveBits(alg, key, length, { keyUsage: true });
    });
  }

  override deriveKey(...args: any[]): Promise<any> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 5, 'deriveKey');
      const [alg, p] = this.#normalize(args[0], 'deriveBits');
      const [target, tp] = this.#normalize(args[2], 'importKey');
      if (!isSecretKeyProvider(tp)) throw domError('NotSupportedError', `deriveKey cannot make a ${target.name} key`);
      const spec = tp.derivedKeySpec(target);
      const key = this.#keyFor(args[1], alg, 'deriveKey');
      const extractable = Boolean(args[3]);
      const usages = usageList(args[4]);
      checkUsages(usages, allowedUsages(tp));
      requireUsages(usages, 'secret');
      p.checkAlgorithmParams(alg);
      const options = keyOptions(args[5]);
      if (derivesInHsm(p)) {
        const attrs = keyAttributes('secret', extractable, usages, options);
        const h = await p.deriveInHsm(alg, key as SealedKey, spec, attrs);
        return SealedKey.of(h, spec.algorithm!, 'secret', extractable, usages);
      }
      // PBKDF2: the bits are computed outside the HSM and imported as the new key.
      const bits = new Uint8Array(await p.deriveBits(alg, key, spec.bytes * 8, { keyUsage: false }));
      try {
        return await tp.importKey('raw', bits.buffer, target, extractable, usages, options);
      } finally {
        bits.fill(0);
      }
    });
  }

  override wrapKey(...args: any[]): Promise<ArrayBuffer> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 4, 'wrapKey');
      const format = keyFormat(args[0]);
      const [alg, p] = this.#normalize(args[3], 'wrapKey');
      const wrappingKey = this.#keyFor(args[2], alg, 'wrapKey') as SealedKey;
      const key = this.#key(args[1]);
      const kp = this.getProvider(key.algorithm.name);
      if (!this.#supports(kp, 'exportKey')) throw domError('NotSupportedError', `${key.algorithm.name} keys cannot be exported`);
      if (!key.extractable) throw domError('InvalidAccessError', 'the key is not extractable');
      if (!isWrappingProvider(p)) throw domError('NotSupportedError', `${alg.name} does not wrap keys`);
      p.checkAlgorithmParams(alg);
      const mechanism = p.wrapMechanism(alg, wrappingKey);
      if ((format === 'raw' && key.type === 'secret') || (format === 'pkcs8' && key.type === 'private')) {
        return new Uint8Array(await wrappingKey.handle.wrap((key as SealedKey).handle, mechanism)).buffer;
      }
      // Other forms (a JWK, a public key) are bytes we may see: wrap them as a one-time secret.
      const exported = await kp.onExportKey(format, key);
      const bytes = format === 'jwk' ? new TextEncoder().encode(JSON.stringify(exported)) : new Uint8Array(exported as ArrayBuffer);
      const temp = await this.#ctx.keys.importSecret(bytes, { type: 'generic-secret', extractable: true, sensitive: false });
      try {
        return new Uint8Array(await wrappingKey.handle.wrap(temp, mechanism)).buffer;
      } finally {
        bytes.fill(0);
        await temp.delete();
      }
    });
  }

  override unwrapKey(...args: any[]): Promise<any> {
    return step('OperationError', async () => {
      this.checkRequiredArguments(args, 7, 'unwrapKey');
      const format = keyFormat(args[0]);
      const wrapped = view(copy(args[1]));
      const [alg, p] = this.#normalize(args[3], 'unwrapKey');
      const [target, tp] = this.#normalize(args[4], 'importKey');
      const unwrappingKey = this.#keyFor(args[2], alg, 'unwrapKey') as SealedKey;
      const extractable = Boolean(args[5]);
      const usages = usageList(args[6]);
      checkUsages(usages, allowedUsages(tp));
      const options = keyOptions(args[7]);
      if (!isWrappingProvider(p)) throw domError('NotSupportedError', `${alg.name} does not unwrap keys`);
      p.checkAlgorithmParams(alg);
      const mechanism = p.wrapMechanism(alg, unwrappingKey);
      const inHsm = (format === 'raw' && isSecretKeyProvider(tp)) || format === 'pkcs8';
      if (inHsm) {
        const source = new Unwrapped((cls: 'secret-key' | 'private-key', type: HsmKeyType, attrs: KeyAttributes) =>
          unwrappingKey.handle.unwrap(wrapped, { class: cls, type, ...attrs }, mechanism));
        return tp.onImportKey(format, source as unknown as ArrayBuffer, target, extractable, usages, options);
      }
      // A JWK, a public key, or an HKDF/PBKDF2 secret: decrypt as a one-time secret, then import.
      const temp = await unwrappingKey.handle.unwrap(wrapped, { class: 'secret-key', type: 'generic-secret', extractable: true, sensitive: false }, mechanism);
      let bytes: Uint8Array;
      try {
        bytes = await temp.exportSecretValue();
      } finally {
        await temp.delete();
      }
      try {
        let data: JsonWebKey | ArrayBuffer = new Uint8Array(bytes).buffer;
        if (format === 'jwk') {
          try {
            data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as JsonWebKey;
          } catch (e) {
            throw domError('DataError', 'the unwrapped bytes are not a JSON Web Key', e);
          }
        }
        return await tp.importKey(format, data, target, extractable, usages, options);
      } finally {
        bytes.fill(0);
      }
    });
  }

  /** Normalizes an algorithm for an operation: TypeError for a malformed one, NotSupportedError for
   *  a name this HSM does not offer or that does not do this operation. */
  #normalize(algorithm: unknown, op: Op): [Algorithm & Record<string, unknown>, core.ProviderCrypto] {
    const a = typeof algorithm === 'string' ? { name: algorithm } : algorithm;
    if (a === null || typeof a !== 'object' || typeof (a as { name?: unknown }).name !== 'string') throw new TypeError('an algorithm is a name or an object with a name');
    const p = this.providers.get((a as Algorithm).name);
    if (p === null || !this.#supports(p, op)) throw domError('NotSupportedError', `${(a as Algorithm).name} does not support ${op} here`);
    const prepared = this.prepareAlgorithm(a as Algorithm) as Algorithm & Record<string, unknown>;
    return [{ ...prepared, name: p.name }, p];
  }

  #supports(p: core.ProviderCrypto, op: Op): boolean {
    if (op === 'wrapKey') return isWrappingProvider(p);
    if (op === 'unwrapKey') return isWrappingProvider(p);
    if (op === 'get key length') return isSecretKeyProvider(p);
    const hook = HOOKS[op];
    return (p as unknown as Record<string, unknown>)[hook] !== (core.ProviderCrypto.prototype as unknown as Record<string, unknown>)[hook];
  }

  #key(key: unknown): core.CryptoKey {
    if (!(key instanceof core.CryptoKey)) throw new TypeError('the key is not a CryptoKey of this HSM');
    return key;
  }

  /** The spec's key checks: same algorithm name (InvalidAccessError), and the usage allowed. */
  #keyFor(key: unknown, alg: Algorithm, usage: WebKeyUsage): core.CryptoKey {
    const k = this.#key(key);
    if (k.algorithm.name !== alg.name) throw domError('InvalidAccessError', `the key is for ${k.algorithm.name}, not ${alg.name}`);
    if (!k.usages.includes(usage)) throw domError('InvalidAccessError', `the key's usages (${k.usages.join(', ') || 'none'}) do not include '${usage}'`);
    return k;
  }
}

