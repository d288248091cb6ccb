// src/client/key_handle.ts
//
// A key reference on the HSM, with the operations its class allows. The key material never comes
// here: a KeyHandle is a number and what the HSM says about it.

import { randomBytes } from 'node:crypto';

import type { JsonWebKey } from '../keys/jwk.js';

import { HsmKeyError, call, hsmError } from '../errors.js';
import { spkiToJwk, spkiToPem } from '../keys/export.js';
import { curveByName, curveByParams, type CurveName } from '../keys/curves.js';
import { CKA, CKM } from '../native/pkcs11_gen.js';
import { CLASS_NAMES, TYPE_NAMES, readUlong, toTemplate, type KeyAttributes, type KeyClass, type KeyType, type SettableAttributes } from './attributes.js';
import type { ClientContext } from './context.js';
import { CipherStream, type CipherStreamOptions } from './streams.js';
import { cipherMechanism, signMechanism, type AesGcmOptions, type EncryptMechanism, type SignMechanism, type WrapMechanism } from './mechanisms.js';

/** What the HSM reports about a key. */
export interface KeyInfo {
  readonly ref: number;
  readonly class: KeyClass;
  readonly type: KeyType;
  readonly label: string;
  readonly id: Uint8Array;
  /** Key size: bits for RSA and EC, bytes × 8 for secret keys. */
  readonly bits: number;
  readonly curve?: CurveName;
  readonly token: boolean;
  readonly owner: string;
  readonly sharedWith: readonly string[];
  readonly attributes: Readonly<Record<'sensitive' | 'extractable' | 'local' | 'alwaysSensitive' | 'neverExtractable' | 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'wrap' | 'unwrap' | 'derive' | 'modifiable' | 'trusted' | 'wrapWithTrusted', boolean | undefined>>;
}

/** Encryption with a token-chosen IV returns it beside the ciphertext. */
export interface GcmResult {
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
}

export type PublicKeyFormat = 'spki' | 'pem' | 'jwk' | 'raw';

const FLAGS = {
  sensitive: CKA.SENSITIVE, extractable: CKA.EXTRACTABLE, local: CKA.LOCAL, alwaysSensitive: CKA.ALWAYS_SENSITIVE,
  neverExtractable: CKA.NEVER_EXTRACTABLE, encrypt: CKA.ENCRYPT, decrypt: CKA.DECRYPT, sign: CKA.SIGN, verify: CKA.VERIFY,
  wrap: CKA.WRAP, unwrap: CKA.UNWRAP, derive: CKA.DERIVE, modifiable: CKA.MODIFIABLE, trusted: CKA.TRUSTED, wrapWithTrusted: CKA.WRAP_WITH_TRUSTED,
} as const;

const bytes = (v: unknown, what: string): Uint8Array => {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  return v;
};

/** The object is there but is not a key (a certificate or a data object). */
export class NotAKeyError extends HsmKeyError {}

export class KeyHandle {
  readonly #ctx: ClientContext;
  /** The key reference (PKCS#11 object handle). */
  readonly ref: number;
  readonly class: KeyClass;
  readonly type: KeyType;
  /** For EC keys, the curve. */
  readonly curve: CurveName | undefined;

  /** @internal Use `hsm.keys` to obtain handles. */
  constructor(ctx: ClientContext, ref: number, cls: KeyClass, type: KeyType, curve: CurveName | undefined) {
    this.#ctx = ctx;
    this.ref = ref;
    this.class = cls;
    this.type = type;
    this.curve = curve;
  }

  /** @internal Reads class, type and curve of a key reference. */
  static async load(ctx: ClientContext, ref: number): Promise<KeyHandle> {
    const [cls, kt, params] = await call(ctx.native.getAttributes(ctx.session(), ref, [CKA.CLASS, CKA.KEY_TYPE, CKA.EC_PARAMS]));
    const c = CLASS_NAMES[readUlong(cls?.value) ?? -1];
    const t = TYPE_NAMES[readUlong(kt?.value) ?? -1];
    if (c === undefined || t === undefined) throw new NotAKeyError('CKR_KEY_HANDLE_INVALID', `object ${ref} is not a key`);
    const curve = params?.value ? curveByParams(params.value)?.name : undefined;
    return new KeyHandle(ctx, ref, c, t, curve);
  }

  /** The key reference as CloudHSM CLI prints it (`0x0000000000000012`). */
  get keyReference(): string {
    return `0x${this.ref.toString(16).padStart(16, '0')}`;
  }

  /** Attributes, size, owner and sharing. */
  async info(): Promise<KeyInfo> {
    const types = [CKA.LABEL, CKA.ID, CKA.TOKEN, CKA.VALUE_LEN, CKA.MODULUS_BITS, CKA.MODULUS, ...Object.values(FLAGS)];
    const got = await call(this.#ctx.native.getAttributes(this.#ctx.session(), this.ref, types));
    const value = (t: number) => got.find((a) => a.type === t)?.value ?? null;
    const flag = (t: number) => (value(t) === null ? undefined : value(t)![0] === 1);
    const own = this.#ctx.native.ownership(this.#ctx.session(), this.ref);
    const modulus = value(CKA.MODULUS);
    const bits = this.type === 'rsa' ? (modulus ? modulus.length * 8 : (readUlong(value(CKA.MODULUS_BITS)) ?? 0))
      : this.curve !== undefined ? { secp224r1: 224, secp256r1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256, ed25519: 255 }[this.curve]
      : (readUlong(value(CKA.VALUE_LEN)) ?? 0) * 8;
    return {
      ref: this.ref, class: this.class, type: this.type,
      label: value(CKA.LABEL)?.toString('utf8') ?? '', id: new Uint8Array(value(CKA.ID) ?? []), bits,
      ...(this.curve && { curve: this.curve }), token: flag(CKA.TOKEN) ?? false,
      owner: own.owner, sharedWith: own.sharedWith,
      attributes: Object.fromEntries(Object.entries(FLAGS).map(([k, t]) => [k, flag(t)])) as KeyInfo['attributes'],
    };
  }

  /** Signs `data` (default mechanism: ECDSA with the curve's hash, EdDSA, SHA-256 RSA PKCS#1, HMAC-SHA256, AES-CMAC). */
  async sign(data: Uint8Array, mechanism?: SignMechanism): Promise<Buffer> {
    return call(this.#ctx.native.sign(this.#ctx.session(), signMechanism(mechanism ?? this.#defaultSign()), this.ref, bytes(data, 'data')));
  }

  /** True for a good signature, false for a bad one; anything else (wrong key, bad mechanism) throws. */
  async verify(data: Uint8Array, signature: Uint8Array, mechanism?: SignMechanism): Promise<boolean> {
    try {
      await call(this.#ctx.native.verify(this.#ctx.session(), signMechanism(mechanism ?? this.#defaultSign()), this.ref, bytes(data, 'data'), bytes(signature, 'signature')));
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'CKR_SIGNATURE_INVALID' || code === 'CKR_SIGNATURE_LEN_RANGE') return false;
      throw e;
    }
  }

  /** Encrypts. AES-GCM (the default for AES keys) returns the ciphertext (with the tag) and the IV. */
  encrypt(data: Uint8Array, mechanism?: AesGcmOptions): Promise<GcmResult>;
  encrypt(data: Uint8Array, mechanism: Exclude<EncryptMechanism, AesGcmOptions>): Promise<Buffer>;
  encrypt(data: Uint8Array, mechanism?: EncryptMechanism): Promise<Buffer | GcmResult>;
  async encrypt(data: Uint8Array, mechanism?: EncryptMechanism): Promise<Buffer | GcmResult> {
    const m = mechanism ?? (this.type === 'aes' ? { name: 'AES_GCM' as const } : this.#defaultCipher());
    const native = cipherMechanism(m);
    const gcm = typeof m === 'object' && m.name === 'AES_GCM' && typeof native === 'object' ? native : undefined;
    // Without an IV a fresh random one is used (a CloudHSM profile writes the one it chose over it):
    // never a fixed IV, which under GCM would reuse a nonce with the same key.
    const iv = gcm ? Buffer.from(gcm.iv ?? randomBytes(12)) : undefined;
    const out = await call(this.#ctx.native.encrypt(this.#ctx.session(), gcm && iv ? { ...gcm, iv } : native, this.ref, bytes(data, 'data')));
    return iv ? { ciphertext: out, iv } : out;
  }

  /** Encrypts a stream of any size in constant memory: write plaintext in, read ciphertext out
   *  (`pipeline(source, key.encryptStream(), sink)`). The HSM runs one multi-part operation on a
   *  session of the stream's own. AES-GCM without an IV gets a fresh random one, read it from
   *  `stream.iv`; the tag is the last 16 bytes of the output. */
  encryptStream(mechanism?: EncryptMechanism, options?: CipherStreamOptions): CipherStream {
    const m = mechanism ?? (this.type === 'aes' ? { name: 'AES_GCM' as const } : this.#defaultCipher());
    const native = cipherMechanism(m);
    const gcm = typeof native === 'object' && native.type === CKM.AES_GCM ? native : undefined;
    return new CipherStream(this.#ctx, true, gcm ? { ...gcm, iv: Buffer.from(gcm.iv ?? randomBytes(12)) } : native, this.ref, options);
  }

  /** Decrypts a stream (see encryptStream). Under AES-GCM the HSM holds the ciphertext until the
   *  tag at its end verifies, as PKCS#11 requires, so no unauthenticated plaintext comes out; use
   *  CBC or CTR where a stream of plaintext must flow before the end. */
  decryptStream(mechanism: EncryptMechanism, options?: CipherStreamOptions): CipherStream {
    return new CipherStream(this.#ctx, false, cipherMechanism(mechanism), this.ref, options);
  }

  /** Decrypts. For AES-GCM pass the IV that encryption returned. */
  async decrypt(data: Uint8Array, mechanism?: EncryptMechanism): Promise<Buffer> {
    const m = mechanism ?? this.#defaultCipher();
    return call(this.#ctx.native.decrypt(this.#ctx.session(), cipherMechanism(m), this.ref, bytes(data, 'data')));
  }

  /** Wraps `key` with this key. Only the owner of `key` may, and `key` must be extractable. With
   *  AES_GCM on the CloudHSM profiles, pass a 12-byte `iv` buffer: the HSM writes the IV it chose there. */
  async wrap(key: KeyHandle, mechanism?: WrapMechanism): Promise<Buffer> {
    if (!(key instanceof KeyHandle)) throw new TypeError('key must be a KeyHandle');
    return call(this.#ctx.native.wrapKey(this.#ctx.session(), cipherMechanism(mechanism ?? this.#defaultWrap()), this.ref, key.ref));
  }

  /** Unwraps a key with this key; `type` and `class` say what it is, the rest are its attributes. */
  async unwrap(wrapped: Uint8Array, key: { class: 'secret-key' | 'private-key'; type: KeyType } & KeyAttributes, mechanism?: WrapMechanism): Promise<KeyHandle> {
    const { class: cls, type, ...attrs } = key;
    const ref = await call(this.#ctx.native.unwrapKey(this.#ctx.session(), cipherMechanism(mechanism ?? this.#defaultWrap()), this.ref, bytes(wrapped, 'wrapped'),
      [...this.#ctx.classAndType(cls, type), ...toTemplate(attrs)]));
    // A secret key is what the template said; a private key's curve comes from the wrapped key.
    return cls === 'secret-key' ? new KeyHandle(this.#ctx, ref, cls, type, undefined) : KeyHandle.load(this.#ctx, ref);
  }

  /** ECDH with a peer's public point (raw or DER OCTET STRING). `kdf` 'none' returns Z itself. */
  async deriveEcdh(peerPoint: Uint8Array, key: { type: 'aes' | 'generic-secret'; length?: number; kdf?: 'none' | 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512'; sharedInfo?: Uint8Array } & KeyAttributes): Promise<KeyHandle> {
    const { type, length, kdf = 'none', sharedInfo, ...attrs } = key;
    const kdfs = { none: 1, SHA1: 2, SHA224: 5, SHA256: 6, SHA384: 7, SHA512: 8 } as const;
    if (!(kdf in kdfs)) throw new RangeError(`kdf must be one of ${Object.keys(kdfs).join(', ')}`);
    const mech = { type: 0x1050, kdf: kdfs[kdf], publicData: bytes(peerPoint, 'peerPoint'), ...(sharedInfo && { sharedData: sharedInfo }) };
    return this.#derive(mech, type, length, attrs);
  }

  /** HKDF (RFC 5869) from this generic secret (the pkcs11 profile: CloudHSM has no HKDF mechanism,
   *  so the CloudHSM profiles answer CKR_MECHANISM_INVALID). */
  async deriveHkdf(key: { type: 'aes' | 'generic-secret'; length: number; hash?: 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512'; salt?: Uint8Array; info?: Uint8Array } & KeyAttributes): Promise<KeyHandle> {
    const { type, length, hash = 'SHA256', salt, info, ...attrs } = key;
    const hashes = { SHA1: 0x220, SHA224: 0x255, SHA256: 0x250, SHA384: 0x260, SHA512: 0x270 } as const;
    const mech = { type: 0x402a, extract: true, expand: true, hashAlg: hashes[hash], saltType: salt && salt.length ? 2 : 1, ...(salt && { salt }), ...(info && { info }) };
    return this.#derive(mech, type, length, attrs);
  }

  /** SP 800-108 counter-mode KDF (CloudHSM's vendor mechanism in the CloudHSM profiles).
   *  `kdfLabel` and `kdfContext` are the KDF's inputs (`label` stays the new key's CKA_LABEL). */
  async deriveSp800108(key: { type: 'aes' | 'generic-secret'; length: number; prf?: 'SHA1_HMAC' | 'SHA224_HMAC' | 'SHA256_HMAC' | 'SHA384_HMAC' | 'SHA512_HMAC' | 'AES_CMAC'; kdfLabel?: Uint8Array; kdfContext?: Uint8Array } & KeyAttributes): Promise<KeyHandle> {
    const { type, length, prf = 'SHA256_HMAC', kdfLabel: label, kdfContext: context, ...attrs } = key;
    const prfs = { SHA1_HMAC: 0x221, SHA224_HMAC: 0x256, SHA256_HMAC: 0x251, SHA384_HMAC: 0x261, SHA512_HMAC: 0x271, AES_CMAC: 0x108a } as const;
    const mech = { type: this.#ctx.profile.startsWith('cloudhsm') ? 0x80000001 : 0x3ac, prf: prfs[prf], ...(label && { label }), ...(context && { context }) };
    return this.#derive(mech, type, length, attrs);
  }

  /** The public key (of a public key or of either half of a pair) as SPKI DER, PEM, JWK or the raw EC point. */
  async exportPublicKey(format: 'pem'): Promise<string>;
  async exportPublicKey(format: 'jwk'): Promise<JsonWebKey>;
  async exportPublicKey(format?: 'spki' | 'raw'): Promise<Buffer>;
  async exportPublicKey(format: PublicKeyFormat = 'spki'): Promise<Buffer | string | JsonWebKey> {
    if (this.class === 'secret-key') throw hsmError('CKR_KEY_TYPE_INCONSISTENT', 'a secret key has no public part');
    const [spki] = await call(this.#ctx.native.getAttributes(this.#ctx.session(), this.ref, [CKA.PUBLIC_KEY_INFO]));
    const der = spki?.value;
    if (!der) throw hsmError('CKR_ATTRIBUTE_TYPE_INVALID', 'the key has no CKA_PUBLIC_KEY_INFO');
    switch (format) {
      case 'spki': return der;
      case 'pem': return spkiToPem(der);
      case 'jwk': return spkiToJwk(der);
      case 'raw': {
        // The point ends the SPKI's BIT STRING: 32 bytes for Ed25519, 2n+1 (uncompressed) for EC.
        if (this.type === 'rsa' || this.curve === undefined) throw new RangeError("RSA keys have no raw point; use 'spki', 'pem' or 'jwk'");
        const n = this.type === 'ed25519' ? 32 : 2 * curveByName(this.curve).size + 1;
        return der.subarray(der.length - n);
      }
      default: throw new RangeError(`format must be 'spki', 'pem', 'jwk' or 'raw'`);
    }
  }

  /** CKA_VALUE of a secret key that is neither sensitive nor unextractable; anything else throws
   *  CKR_ATTRIBUTE_SENSITIVE. The one explicit way secret bytes leave the HSM unwrapped. */
  async exportSecretValue(): Promise<Buffer> {
    const [v] = await call(this.#ctx.native.getAttributes(this.#ctx.session(), this.ref, [CKA.VALUE]));
    if (!v?.value) throw hsmError('CKR_ATTRIBUTE_SENSITIVE', 'the key value cannot be read: it is sensitive or not extractable');
    return v.value;
  }

  /** Shares the key with another crypto user (owner only). */
  async share(user: string): Promise<void> {
    await call(this.#ctx.native.shareKey(this.#ctx.session(), this.ref, user, true));
  }

  /** Stops sharing the key with a crypto user (owner only). */
  async unshare(user: string): Promise<void> {
    await call(this.#ctx.native.shareKey(this.#ctx.session(), this.ref, user, false));
  }

  /** Changes attributes under CloudHSM's rules (one-way flags; `trusted` by admins only). */
  async setAttributes(attributes: SettableAttributes): Promise<void> {
    await call(this.#ctx.native.setAttributes(this.#ctx.session(), this.ref, toTemplate(attributes)));
  }

  /** Deletes the key (owner only). Deleting one half of a pair leaves the other. */
  async delete(): Promise<void> {
    await call(this.#ctx.native.destroyObject(this.#ctx.session(), this.ref));
  }

  async #derive(mech: { type: number } & Record<string, unknown>, type: 'aes' | 'generic-secret', length: number | undefined, attrs: KeyAttributes): Promise<KeyHandle> {
    const tmpl = [...this.#ctx.classAndType('secret-key', type), ...toTemplate(attrs), ...(length !== undefined ? [[CKA.VALUE_LEN, length] as [number, number]] : [])];
    const ref = await call(this.#ctx.native.deriveKey(this.#ctx.session(), mech, this.ref, tmpl));
    return new KeyHandle(this.#ctx, ref, 'secret-key', type, undefined); // derived keys are the secret the template asked for
  }

  #defaultSign(): SignMechanism {
    switch (this.type) {
      case 'ed25519': return 'EDDSA';
      case 'rsa': return 'SHA256_RSA_PKCS';
      case 'generic-secret': return 'SHA256_HMAC';
      case 'aes': return 'AES_CMAC';
      case 'ec': return this.curve === 'secp384r1' ? 'ECDSA_SHA384' : this.curve === 'secp521r1' ? 'ECDSA_SHA512' : this.curve === 'secp224r1' ? 'ECDSA_SHA224' : 'ECDSA_SHA256';
    }
  }

  #defaultCipher(): EncryptMechanism {
    if (this.type === 'rsa') return { name: 'RSA_PKCS_OAEP', hash: 'SHA256' };
    throw new TypeError(`pass a mechanism to encrypt or decrypt with a ${this.type} key (AES-GCM needs its IV to decrypt)`);
  }

  #defaultWrap(): WrapMechanism {
    if (this.type === 'rsa') return { name: 'RSA_AES_KEY_WRAP' };
    return this.#ctx.profile.startsWith('cloudhsm') ? 'CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD' : 'AES_KEY_WRAP_PAD';
  }
}
