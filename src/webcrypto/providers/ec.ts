// src/webcrypto/providers/ec.ts
//
// ECDSA and ECDH on P-256, P-384 and P-521 (W3C Web Cryptography API §23, §24), and Ed25519 (Secure
// Curves in the Web Cryptography API). Signatures are the spec's raw r‖s, which is also what the
// HSM's CKM_ECDSA_* return. ECDH derives in the HSM: deriveBits reads a one-time derived secret
// back, deriveKey (see subtle.ts) never brings the secret out.

import * as core from 'webcrypto-core';

import type { KeyHandle } from '../../client/key_handle.js';
import type { SimpleSignMechanism } from '../../client/mechanisms.js';
import type { CurveName } from '../../keys/curves.js';
import type { JsonWebKey } from '../../keys/jwk.js';
import { exportAsymmetric, importAsymmetric, type AsymmetricKind } from '../asymmetric.js';
import { domError } from '../errors.js';
import { SealedKey, keyAttributes, keyOptions, sortUsages, type WebKeyUsage } from '../key.js';
import { arrayBuffer, b64u, requireUsages, view, WEB_HASHES, webHash, type FacadeContext } from '../params.js';
import type { DerivedKeySpec } from './secret.js';

const NAMED_CURVES = { 'P-256': 'secp256r1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' } as const satisfies Record<string, CurveName>;
type NamedCurve = keyof typeof NAMED_CURVES;
const FIELD_BYTES: Record<NamedCurve, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

function namedCurve(c: unknown): NamedCurve {
  if (typeof c !== 'string') throw new TypeError('namedCurve: Missing required property');
  if (!(c in NAMED_CURVES)) throw domError('NotSupportedError', `namedCurve ${c} is not supported (P-256, P-384, P-521)`);
  return c as NamedCurve;
}

function curveOf(h: KeyHandle): NamedCurve {
  const found = (Object.keys(NAMED_CURVES) as NamedCurve[]).find((n) => NAMED_CURVES[n] === h.curve);
  if (found === undefined) throw domError('DataError', `the key's curve ${h.curve ?? h.type} is not P-256, P-384 or P-521`);
  return found;
}

async function generatePair(ctx: FacadeContext, name: string, curve: NamedCurve, extractable: boolean, usages: readonly WebKeyUsage[],
  privateUsages: readonly WebKeyUsage[], publicUsages: readonly WebKeyUsage[], options: unknown): Promise<CryptoKeyPair> {
  const opts = keyOptions(options);
  const priv = sortUsages(usages.filter((u) => privateUsages.includes(u)));
  requireUsages(priv, 'private');
  const pair = await ctx.keys.generateEc({ curve: NAMED_CURVES[curve], ...keyAttributes('pair', extractable, usages, opts) });
  await ctx.finishPair(pair, opts);
  const algorithm = { name, namedCurve: curve };
  return {
    privateKey: SealedKey.of(pair.privateKey, algorithm, 'private', extractable, priv),
    publicKey: SealedKey.of(pair.publicKey, { ...algorithm }, 'public', true, usages.filter((u) => publicUsages.includes(u))),
  };
}

function kind(curve: NamedCurve, use: 'sig' | 'enc', privateUsages: WebKeyUsage[], publicUsages: WebKeyUsage[]): AsymmetricKind {
  return { hsmType: 'ec', curve: NAMED_CURVES[curve], jwkKty: 'EC', jwkUse: use, privateUsages, publicUsages };
}

export class HsmEcdsaProvider extends core.EcdsaProvider {
  override namedCurves = Object.keys(NAMED_CURVES);
  readonly #ctx: FacadeContext;

  constructor(ctx: FacadeContext) {
    super();
    this.#ctx = ctx;
  }

  override checkNamedCurve(c: string): void {
    namedCurve(c);
  }

  override checkHashAlgorithm(algorithm: Algorithm): void {
    webHash(algorithm);
  }

  override async onGenerateKey(algorithm: EcKeyGenParams, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<CryptoKeyPair> {
    return generatePair(this.#ctx, 'ECDSA', namedCurve(algorithm.namedCurve), extractable, usages, ['sign'], ['verify'], options);
  }

  override async onSign(algorithm: EcdsaParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> {
    return arrayBuffer(await key.handle.sign(view(data), mechanism(algorithm)));
  }

  override async onVerify(algorithm: EcdsaParams, key: SealedKey, signature: ArrayBuffer, data: ArrayBuffer): Promise<boolean> {
    return key.handle.verify(view(data), view(signature), mechanism(algorithm));
  }

  override async onImportKey(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer, algorithm: EcKeyImportParams, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<SealedKey> {
    const curve = namedCurve(algorithm.namedCurve);
    if (format === 'jwk' && (keyData as JsonWebKey).crv !== curve) throw domError('DataError', `JWK crv must be ${curve}`);
    return importAsymmetric(this.#ctx, kind(curve, 'sig', ['sign'], ['verify']), format, keyData, extractable, usages, keyOptions(options),
      async (h) => ({ name: 'ECDSA', namedCurve: curveOf(h) }));
  }

  override async onExportKey(format: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> {
    return exportAsymmetric(key, format);
  }
}

function mechanism(algorithm: EcdsaParams): SimpleSignMechanism {
  return `ECDSA_${WEB_HASHES[webHash(algorithm.hash)]}`;
}

export class HsmEcdhProvider extends core.EcdhProvider {
  override namedCurves = Object.keys(NAMED_CURVES);
  readonly #ctx: FacadeContext;

  constructor(ctx: FacadeContext) {
    super();
    this.#ctx = ctx;
  }

  override checkNamedCurve(c: string): void {
    namedCurve(c);
  }

  // The peer's key: a CryptoKey (TypeError), public and ECDH (InvalidAccessError), as the spec says.
  override checkAlgorithmParams(algorithm: EcdhKeyDeriveParams): void {
    const pub = algorithm.public as unknown;
    if (pub === undefined) throw new TypeError('public: Missing required property');
    if (!(pub instanceof core.CryptoKey)) throw new TypeError('public must be a CryptoKey');
    if (pub.type !== 'public') throw domError('InvalidAccessError', 'public must be a public key');
    if (pub.algorithm.name !== this.name) throw domError('InvalidAccessError', `public is a ${pub.algorithm.name} key, not ${this.name}`);
  }

  // The spec lets ECDH return any number of bits (the last byte masked); webcrypto-core wants bytes.
  override checkDeriveBits(algorithm: EcdhKeyDeriveParams, baseKey: CryptoKey, _length: number | null, options: { keyUsage?: boolean } = {}): void {
    this.checkAlgorithmName(algorithm);
    this.checkAlgorithmParams(algorithm);
    this.checkCryptoKey(baseKey, options.keyUsage ? 'deriveBits' : undefined);
  }

  override async onGenerateKey(algorithm: EcKeyGenParams, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<CryptoKeyPair> {
    return generatePair(this.#ctx, 'ECDH', namedCurve(algorithm.namedCurve), extractable, usages, ['deriveKey', 'deriveBits'], [], options);
  }

  override async onImportKey(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer, algorithm: EcKeyImportParams, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<SealedKey> {
    const curve = namedCurve(algorithm.namedCurve);
    if (format === 'jwk' && (keyData as JsonWebKey).crv !== curve) throw domError('DataError', `JWK crv must be ${curve}`);
    return importAsymmetric(this.#ctx, kind(curve, 'enc', ['deriveKey', 'deriveBits'], []), format, keyData, extractable, usages, keyOptions(options),
      async (h) => ({ name: 'ECDH', namedCurve: curveOf(h) }));
  }

  override async onExportKey(format: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> {
    return exportAsymmetric(key, format);
  }

  override async onDeriveBits(algorithm: EcdhKeyDeriveParams, baseKey: SealedKey, length: number | null): Promise<ArrayBuffer> {
    const curve = (baseKey.algorithm as EcKeyAlgorithm).namedCurve as NamedCurve;
    const size = FIELD_BYTES[curve];
    if (length !== null && length !== undefined && length > size * 8) throw domError('OperationError', `length ${length} is more than the ${size * 8} bits ECDH gives on ${curve}`);
    const secret = await this.#withSecret(algorithm, baseKey, { type: 'generic-secret', bytes: size }, async (h) => h.exportSecretValue());
    try {
      if (length === null || length === undefined) return arrayBuffer(secret);
      const out = new Uint8Array(Math.ceil(length / 8));
      out.set(secret.subarray(0, out.length));
      if (length % 8) out[out.length - 1]! &= 0xff << (8 - (length % 8));
      const ab = arrayBuffer(out);
      out.fill(0);
      return ab;
    } finally {
      secret.fill(0);
    }
  }

  /** deriveKey: the new key is made from the shared secret in the HSM (the first `bytes` of Z). */
  async deriveInHsm(algorithm: EcdhKeyDeriveParams, baseKey: SealedKey, spec: DerivedKeySpec, attrs: object): Promise<KeyHandle> {
    const size = FIELD_BYTES[(baseKey.algorithm as EcKeyAlgorithm).namedCurve as NamedCurve];
    if (spec.bytes > size) throw domError('OperationError', `a ${spec.bytes * 8}-bit key is longer than the ${size * 8}-bit shared secret`);
    return this.#derive(algorithm, baseKey, spec, attrs);
  }

  async #withSecret<T>(algorithm: EcdhKeyDeriveParams, baseKey: SealedKey, spec: DerivedKeySpec, use: (h: KeyHandle) => Promise<T>): Promise<T> {
    const h = await this.#derive(algorithm, baseKey, spec, { extractable: true, sensitive: false });
    try {
      return await use(h);
    } finally {
      await h.delete();
    }
  }

  async #derive(algorithm: EcdhKeyDeriveParams, baseKey: SealedKey, spec: DerivedKeySpec, attrs: object): Promise<KeyHandle> {
    const peer = algorithm.public;
    if (!(peer instanceof SealedKey)) throw domError('InvalidAccessError', 'the public key must be a CryptoKey of this HSM (import it with hsm.subtle.importKey)');
    const curve = (baseKey.algorithm as EcKeyAlgorithm).namedCurve;
    if ((peer.algorithm as EcKeyAlgorithm).namedCurve !== curve) throw domError('InvalidAccessError', `the public key is on ${(peer.algorithm as EcKeyAlgorithm).namedCurve}, the private key on ${curve}`);
    const point = await peer.handle.exportPublicKey('raw');
    return baseKey.handle.deriveEcdh(point, { type: spec.type, length: spec.bytes, ...attrs });
  }
}

export class HsmEd25519Provider extends core.Ed25519Provider {
  readonly #ctx: FacadeContext;

  constructor(ctx: FacadeContext) {
    super();
    this.#ctx = ctx;
  }

  override async onGenerateKey(_algorithm: Algorithm, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<CryptoKeyPair> {
    const opts = keyOptions(options);
    const priv = sortUsages(usages.filter((u) => u === 'sign'));
    requireUsages(priv, 'private');
    const pair = await this.#ctx.keys.generateEd25519(keyAttributes('pair', extractable, usages, opts));
    await this.#ctx.finishPair(pair, opts);
    return {
      privateKey: SealedKey.of(pair.privateKey, { name: 'Ed25519' }, 'private', extractable, priv),
      publicKey: SealedKey.of(pair.publicKey, { name: 'Ed25519' }, 'public', true, usages.filter((u) => u === 'verify')),
    };
  }

  override async onSign(_algorithm: Algorithm, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> {
    return arrayBuffer(await key.handle.sign(view(data), 'EDDSA'));
  }

  override async onVerify(_algorithm: Algorithm, key: SealedKey, signature: ArrayBuffer, data: ArrayBuffer): Promise<boolean> {
    return key.handle.verify(view(data), view(signature), 'EDDSA');
  }

  override async onImportKey(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer, _algorithm: Algorithm, extractable: boolean, usages: KeyUsage[], options?: unknown): Promise<SealedKey> {
    if (format === 'jwk' && (keyData as JsonWebKey).crv !== 'Ed25519') throw domError('DataError', 'JWK crv must be Ed25519');
    const k: AsymmetricKind = { hsmType: 'ed25519', curve: 'ed25519', jwkKty: 'OKP', jwkUse: 'sig', jwkAlg: ['Ed25519', 'EdDSA'], privateUsages: ['sign'], publicUsages: ['verify'] };
    const jwk = format === 'jwk' ? (keyData as JsonWebKey) : undefined;
    return importAsymmetric(this.#ctx, k, format, keyData, extractable, usages, keyOptions(options), async (h) => {
      // A private JWK's x must be d's public key (the import computes it from d).
      if (jwk?.d !== undefined && (typeof jwk.x !== 'string' || b64u(await h.exportPublicKey('raw')) !== jwk.x)) throw domError('DataError', "JWK member 'x' is not the public key of 'd'");
      return { name: 'Ed25519' };
    });
  }

  override async onExportKey(format: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> {
    return exportAsymmetric(key, format, () => ({ alg: 'Ed25519' }));  // as node writes it
  }
}
