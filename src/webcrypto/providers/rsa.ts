// src/webcrypto/providers/rsa.ts
//
// RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP (W3C Web Cryptography API §20–§22). The hash is the key's
// (fixed at generation or import, as the spec says); the modulus sizes are the profile's (CloudHSM:
// 2048–4096 in steps of 256; pkcs11: from 1024), and a size the HSM refuses is an OperationError.

import * as core from 'webcrypto-core';

import type { KeyHandle } from '../../client/key_handle.js';
import type { OaepOptions, PssOptions, SimpleSignMechanism } from '../../client/mechanisms.js';
import type { JsonWebKey } from '../../keys/jwk.js';
import { exportAsymmetric, importAsymmetric, publicJwk, type AsymmetricKind } from '../asymmetric.js';
import { domError } from '../errors.js';
import { SealedKey, keyAttributes, keyOptions, sortUsages, type WebKeyUsage } from '../key.js';
import { arrayBuffer, HASH_BYTES, requireUsages, view, WEB_HASHES, webHash, type FacadeContext, type WebHash } from '../params.js';

interface RsaFlavour {
  readonly name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'RSA-OAEP';
  readonly use: 'sig' | 'enc';
  readonly privateUsages: WebKeyUsage[];
  readonly publicUsages: WebKeyUsage[];
  /** The JWK alg for a hash (RFC 7518 §3.3, §3.5, §4.3; RS1 and PS1 as browsers write them). */
  jwkAlg(hash: WebHash): string;
}

const digits = (h: WebHash): string => h.slice(4);

const FLAVOURS = {
  'RSASSA-PKCS1-v1_5': { name: 'RSASSA-PKCS1-v1_5', use: 'sig', privateUsages: ['sign'], publicUsages: ['verify'], jwkAlg: (h: WebHash) => (h === 'SHA-1' ? 'RS1' : `RS${digits(h)}`) },
  'RSA-PSS': { name: 'RSA-PSS', use: 'sig', privateUsages: ['sign'], publicUsages: ['verify'], jwkAlg: (h: WebHash) => (h === 'SHA-1' ? 'PS1' : `PS${digits(h)}`) },
  'RSA-OAEP': { name: 'RSA-OAEP', use: 'enc', privateUsages: ['decrypt', 'unwrapKey'], publicUsages: ['encrypt', 'wrapKey'], jwkAlg: (h: WebHash) => (h === 'SHA-1' ? 'RSA-OAEP' : `RSA-OAEP-${digits(h)}`) },
} as const satisfies Record<string, RsaFlavour>;

function exponent(e: Uint8Array): bigint {
  let v = 0n;
  for (const b of e) v = (v << 8n) | BigInt(b);
  return v;
}

/** RSA key management shared by the three RSA providers. */
class RsaKeys {
  constructor(readonly ctx: FacadeContext, readonly flavour: RsaFlavour) {}

  checkGenerateParams(algorithm: RsaHashedKeyGenParams): void {
    webHash(algorithm.hash);
    if (!(algorithm.publicExponent instanceof Uint8Array)) throw new TypeError('publicExponent: Missing or not a Uint8Array');
    if (typeof algorithm.modulusLength !== 'number') throw new TypeError('modulusLength: Missing required property');
    const e = exponent(algorithm.publicExponent);
    if (e !== 3n && e !== 65537n) throw domError('OperationError', 'publicExponent must be 3 or 65537');
    if (algorithm.modulusLength % 8 || algorithm.modulusLength < 256 || algorithm.modulusLength > 16384) {
      throw domError('OperationError', 'modulusLength must be a multiple of 8 from 256 to 16384');
    }
  }

  async generate(algorithm: RsaHashedKeyGenParams, extractable: boolean, usages: KeyUsage[], options: unknown): Promise<CryptoKeyPair> {
    const opts = keyOptions(options);
    const priv = sortUsages(usages.filter((u) => this.flavour.privateUsages.includes(u as WebKeyUsage)));
    requireUsages(priv, 'private');
    const e = exponent(algorithm.publicExponent);
    if (e === 3n) throw domError('OperationError', 'the HSM requires a public exponent of at least 65537');
    const pair = await this.ctx.keys.generateRsa({ modulusBits: algorithm.modulusLength, publicExponent: e, ...keyAttributes('pair', extractable, usages, opts) });
    await this.ctx.finishPair(pair, opts);
    const alg: RsaHashedKeyAlgorithm = { name: this.flavour.name, modulusLength: algorithm.modulusLength, publicExponent: Uint8Array.from(algorithm.publicExponent), hash: { name: webHash(algorithm.hash) } };
    return {
      privateKey: SealedKey.of(pair.privateKey, alg, 'private', extractable, priv),
      publicKey: SealedKey.of(pair.publicKey, { ...alg, publicExponent: Uint8Array.from(alg.publicExponent) } as RsaHashedKeyAlgorithm, 'public', true,
        usages.filter((u) => this.flavour.publicUsages.includes(u as WebKeyUsage)) as WebKeyUsage[]),
    };
  }

  async import(format: KeyFormat, keyData: JsonWebKey | ArrayBuffer, algorithm: RsaHashedImportParams, extractable: boolean, usages: KeyUsage[], options: unknown): Promise<SealedKey> {
    const hash = webHash(algorithm.hash);
    const kind: AsymmetricKind = { hsmType: 'rsa', jwkKty: 'RSA', jwkUse: this.flavour.use, jwkAlg: this.flavour.jwkAlg(hash), privateUsages: this.flavour.privateUsages, publicUsages: this.flavour.publicUsages };
    return importAsymmetric(this.ctx, kind, format, keyData, extractable, usages as WebKeyUsage[], keyOptions(options), async (h) => this.#algorithmOf(h, hash));
  }

  async export(format: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> {
    if (format === 'raw') throw domError('NotSupportedError', "RSA keys have no 'raw' form");
    return exportAsymmetric(key, format, () => ({ alg: this.flavour.jwkAlg((key.algorithm as RsaHashedKeyAlgorithm).hash.name as WebHash) }));
  }

  async #algorithmOf(h: KeyHandle, hash: WebHash): Promise<RsaHashedKeyAlgorithm> {
    const jwk = await publicJwk(h);
    const n = Buffer.from(String(jwk.n), 'base64url');
    let bits = n.length * 8;
    for (let top = n[0] ?? 0; bits > 0 && top < 0x80; top <<= 1) bits--;
    return { name: this.flavour.name, modulusLength: bits, publicExponent: Uint8Array.from(Buffer.from(String(jwk.e), 'base64url')), hash: { name: hash } };
  }
}

const keyHash = (key: CryptoKey): WebHash => (key.algorithm as RsaHashedKeyAlgorithm).hash.name as WebHash;

export class HsmRsaSsaProvider extends core.RsaSsaProvider {
  readonly #k: RsaKeys;
  constructor(ctx: FacadeContext) { super(); this.#k = new RsaKeys(ctx, FLAVOURS['RSASSA-PKCS1-v1_5']); }
  override checkHashAlgorithm(a: Algorithm): void { webHash(a); }
  override checkGenerateKeyParams(a: RsaHashedKeyGenParams): void { this.#k.checkGenerateParams(a); }
  override onGenerateKey(a: RsaHashedKeyGenParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<CryptoKeyPair> { return this.#k.generate(a, e, u, o); }
  override onImportKey(f: KeyFormat, d: JsonWebKey | ArrayBuffer, a: RsaHashedImportParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.import(f, d, a, e, u, o); }
  override onExportKey(f: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> { return this.#k.export(f, key); }
  override async onSign(_a: Algorithm, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> { return arrayBuffer(await key.handle.sign(view(data), this.#mechanism(key))); }
  override async onVerify(_a: Algorithm, key: SealedKey, sig: ArrayBuffer, data: ArrayBuffer): Promise<boolean> { return key.handle.verify(view(data), view(sig), this.#mechanism(key)); }
  #mechanism(key: CryptoKey): SimpleSignMechanism { return `${WEB_HASHES[keyHash(key)]}_RSA_PKCS`; }
}

export class HsmRsaPssProvider extends core.RsaPssProvider {
  readonly #k: RsaKeys;
  constructor(ctx: FacadeContext) { super(); this.#k = new RsaKeys(ctx, FLAVOURS['RSA-PSS']); }
  override checkHashAlgorithm(a: Algorithm): void { webHash(a); }
  override checkGenerateKeyParams(a: RsaHashedKeyGenParams): void { this.#k.checkGenerateParams(a); }
  override checkAlgorithmParams(a: RsaPssParams): void {
    if (typeof a.saltLength !== 'number' || !Number.isInteger(a.saltLength) || a.saltLength < 0) throw new TypeError('saltLength must be an unsigned integer');
  }
  override onGenerateKey(a: RsaHashedKeyGenParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<CryptoKeyPair> { return this.#k.generate(a, e, u, o); }
  override onImportKey(f: KeyFormat, d: JsonWebKey | ArrayBuffer, a: RsaHashedImportParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.import(f, d, a, e, u, o); }
  override onExportKey(f: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> { return this.#k.export(f, key); }
  override async onSign(a: RsaPssParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> { return arrayBuffer(await key.handle.sign(view(data), this.#mechanism(a, key))); }
  override async onVerify(a: RsaPssParams, key: SealedKey, sig: ArrayBuffer, data: ArrayBuffer): Promise<boolean> { return key.handle.verify(view(data), view(sig), this.#mechanism(a, key)); }
  #mechanism(a: RsaPssParams, key: CryptoKey): PssOptions {
    const hash = WEB_HASHES[keyHash(key)];
    return { name: `${hash}_RSA_PKCS_PSS`, hash, mgf: hash, saltLength: a.saltLength };
  }
}

export class HsmRsaOaepProvider extends core.RsaOaepProvider {
  readonly #k: RsaKeys;
  constructor(ctx: FacadeContext) { super(); this.#k = new RsaKeys(ctx, FLAVOURS['RSA-OAEP']); }
  override checkHashAlgorithm(a: Algorithm): void { webHash(a); }
  override checkGenerateKeyParams(a: RsaHashedKeyGenParams): void { this.#k.checkGenerateParams(a); }
  override onGenerateKey(a: RsaHashedKeyGenParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<CryptoKeyPair> { return this.#k.generate(a, e, u, o); }
  override onImportKey(f: KeyFormat, d: JsonWebKey | ArrayBuffer, a: RsaHashedImportParams, e: boolean, u: KeyUsage[], o?: unknown): Promise<SealedKey> { return this.#k.import(f, d, a, e, u, o); }
  override onExportKey(f: KeyFormat, key: SealedKey): Promise<ArrayBuffer | JsonWebKey> { return this.#k.export(f, key); }
  override async onEncrypt(a: RsaOaepParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> {
    const max = Math.ceil((key.algorithm as RsaHashedKeyAlgorithm).modulusLength / 8) - 2 * HASH_BYTES[keyHash(key)] - 2;
    if (data.byteLength > max) throw domError('OperationError', `RSA-OAEP encrypts at most ${max} bytes with this key`);
    return arrayBuffer(await key.handle.encrypt(view(data), this.wrapMechanism(a, key)));
  }
  override async onDecrypt(a: RsaOaepParams, key: SealedKey, data: ArrayBuffer): Promise<ArrayBuffer> { return arrayBuffer(await key.handle.decrypt(view(data), this.wrapMechanism(a, key))); }
  wrapMechanism(a: RsaOaepParams, key: CryptoKey): OaepOptions {
    const hash = WEB_HASHES[keyHash(key)];
    return { name: 'RSA_PKCS_OAEP', hash, mgf: hash, ...(a.label !== undefined && { label: view(a.label) }) };
  }
}
