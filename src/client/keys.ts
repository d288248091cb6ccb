// src/client/keys.ts
//
// Key management for a crypto user: generate, import, find. Handles come back; material stays in
// the HSM. Unless told otherwise, keys get the usage their type is for (EC/Ed25519/RSA: sign and
// verify; AES: encrypt and decrypt; generic secrets: sign and verify, i.e. HMAC).

import { HsmIntegrityError, call, fromNative } from '../errors.js';
import { curveByName, type CurveName } from '../keys/curves.js';
import { privateKeyMaterial, publicKeyTemplate, secretKeyTemplate, type KeyInput } from '../keys/import.js';
import { CKA, CKM } from '../native/pkcs11_gen.js';
import { CLASS_VALUES, PRIVATE_HALF, PUBLIC_HALF, TYPE_VALUES, toTemplate, type KeyAttributes, type KeyClass, type KeyType } from './attributes.js';
import type { ClientContext } from './context.js';
import { KeyHandle, NotAKeyError } from './key_handle.js';

export interface KeyPair {
  readonly publicKey: KeyHandle;
  readonly privateKey: KeyHandle;
}

/** Filters for `find`, as CloudHSM CLI's `--filter attr.label=... key-reference=...`. */
export interface KeyFilter {
  readonly label?: string;
  readonly id?: Uint8Array;
  readonly class?: KeyClass;
  readonly type?: KeyType;
  readonly token?: boolean;
  readonly ref?: number;
}

/** `find` met keys that fail their integrity check: `message` names each, `damaged` holds their
 *  errors, and `keys` the matching keys that are intact and usable. */
export class DamagedKeysError extends HsmIntegrityError {
  readonly damaged: readonly HsmIntegrityError[];
  readonly keys: readonly KeyHandle[];

  constructor(damaged: readonly HsmIntegrityError[], keys: readonly KeyHandle[]) {
    super('CKR_SEALHSM_INTEGRITY_FAILURE', `find: ${damaged.length} matching key(s) failed their integrity check: ${damaged.map((e) => e.message).join('; ')}`);
    this.damaged = damaged;
    this.keys = keys;
  }
}

const withDefaults = (given: KeyAttributes, defaults: KeyAttributes): KeyAttributes => ({ ...defaults, ...given });

export class KeyManager {
  readonly #ctx: ClientContext;

  /** @internal */
  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
  }

  /** An AES key of 128, 192 or 256 bits (default 256). */
  async generateAes(options: { bits?: 128 | 192 | 256 } & KeyAttributes = {}): Promise<KeyHandle> {
    const { bits = 256, ...attrs } = options;
    if (bits !== 128 && bits !== 192 && bits !== 256) throw new RangeError('bits must be 128, 192 or 256');
    const tmpl = [[CKA.VALUE_LEN, bits / 8] as [number, number], ...toTemplate(withDefaults(attrs, { encrypt: true, decrypt: true }))];
    return this.#made(await call(this.#ctx.native.generateKey(this.#ctx.session(), CKM.AES_KEY_GEN, tmpl)), 'secret-key', 'aes');
  }

  /** A generic secret of 1–800 bytes (HMAC, KDF input). */
  async generateGenericSecret(options: { length: number } & KeyAttributes): Promise<KeyHandle> {
    const { length, ...attrs } = options;
    if (!Number.isInteger(length)) throw new TypeError('length must be an integer number of bytes');
    const tmpl = [[CKA.VALUE_LEN, length] as [number, number], ...toTemplate(withDefaults(attrs, { sign: true, verify: true }))];
    return this.#made(await call(this.#ctx.native.generateKey(this.#ctx.session(), CKM.GENERIC_SECRET_KEY_GEN, tmpl)), 'secret-key', 'generic-secret');
  }

  /** An EC key pair on a named curve. */
  async generateEc(options: { curve: Exclude<CurveName, 'ed25519'> } & KeyAttributes): Promise<KeyPair> {
    const { curve, ...attrs } = options;
    const info = curveByName(curve);
    return this.#pair(CKM.EC_KEY_PAIR_GEN, [[CKA.EC_PARAMS, info.params]], withDefaults(attrs, { sign: true, verify: true }), 'ec', info.name);
  }

  /** An Ed25519 key pair (hsm2m.medium non-FIPS and pkcs11 profiles). */
  async generateEd25519(options: KeyAttributes = {}): Promise<KeyPair> {
    return this.#pair(CKM.EC_EDWARDS_KEY_PAIR_GEN, [[CKA.EC_PARAMS, curveByName('ed25519').params]], withDefaults(options, { sign: true, verify: true }), 'ed25519', 'ed25519');
  }

  /** An RSA key pair: 2048–4096 bits in steps of 256 (default 2048; from 1024 in the pkcs11 profile),
   *  public exponent odd ≥ 65537. `x931: true` uses CKM_RSA_X9_31_KEY_PAIR_GEN, as AWS's CloudHSM
   *  samples do (FIPS 186-4 conditions on p, q and d; the same signing mechanisms). */
  async generateRsa(options: { modulusBits?: number; publicExponent?: bigint; x931?: boolean } & KeyAttributes = {}): Promise<KeyPair> {
    const { modulusBits = 2048, publicExponent = 65537n, x931 = false, ...attrs } = options;
    if (typeof publicExponent !== 'bigint') throw new TypeError('publicExponent must be a bigint');
    const hex = publicExponent.toString(16);
    const e = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
    const mech = x931 ? CKM.RSA_X9_31_KEY_PAIR_GEN : CKM.RSA_PKCS_KEY_PAIR_GEN;
    return this.#pair(mech, [[CKA.MODULUS_BITS, modulusBits], [CKA.PUBLIC_EXPONENT, e]], withDefaults(attrs, { sign: true, verify: true }), 'rsa', undefined);
  }

  /** Imports a secret key from raw bytes. */
  async importSecret(value: Uint8Array, options: { type: 'aes' | 'generic-secret' } & KeyAttributes): Promise<KeyHandle> {
    const { type, ...attrs } = options;
    const defaults = type === 'aes' ? { encrypt: true, decrypt: true } : { sign: true, verify: true };
    const tmpl = [...secretKeyTemplate(value, type === 'aes' ? 'aes' : 'generic'), ...toTemplate(withDefaults(attrs, defaults))];
    return this.#load(await call(this.#ctx.native.createObject(this.#ctx.session(), tmpl)));
  }

  /** Imports a private key (PEM, PKCS#8 DER, JWK or KeyObject). */
  async importPrivateKey(key: KeyInput, options: KeyAttributes = {}): Promise<KeyHandle> {
    const material = privateKeyMaterial(key);
    let ref: number;
    try {
      const tmpl = [...material.template, ...toTemplate(withDefaults(options, { sign: true }), PRIVATE_HALF)];
      ref = await call(this.#ctx.native.createObject(this.#ctx.session(), tmpl));
    } finally {
      material.wipe(); // the addon copied the key into locked memory before queueing
    }
    return this.#load(ref);
  }

  /** Imports a public key (PEM, SPKI DER, JWK or KeyObject). */
  async importPublicKey(key: KeyInput, options: KeyAttributes = {}): Promise<KeyHandle> {
    const tmpl = [...publicKeyTemplate(key), ...toTemplate(withDefaults(options, { verify: true }), PUBLIC_HALF)];
    return this.#load(await call(this.#ctx.native.createObject(this.#ctx.session(), tmpl)));
  }

  /** The key with this reference, if this user can see it (else CKR_KEY_HANDLE_INVALID). */
  async get(ref: number): Promise<KeyHandle> {
    return this.#load(ref);
  }

  /** Keys this user can see that match every filter: owned, shared with it, and all public keys.
   *  Accepts an object or CloudHSM CLI filter strings ('attr.label=signer', 'attr.class=private-key',
   *  'key-reference=0x12'). */
  async find(filter: KeyFilter | readonly string[] = {}): Promise<KeyHandle[]> {
    const f = Array.isArray(filter) ? parseCliFilter(filter as readonly string[]) : (filter as KeyFilter);
    if (f.ref !== undefined) {
      try {
        const k = await this.#load(f.ref);
        return (await this.#matches(k, f)) ? [k] : [];
      } catch (e) {
        if ((e as { code?: string }).code === 'CKR_KEY_HANDLE_INVALID' || (e as { code?: string }).code === 'CKR_OBJECT_HANDLE_INVALID') return [];
        throw e;
      }
    }
    const tmpl: Array<[number, boolean | number | Uint8Array | string]> = [];
    if (f.label !== undefined) tmpl.push([CKA.LABEL, f.label]);
    if (f.id !== undefined) tmpl.push([CKA.ID, f.id]);
    if (f.class !== undefined) tmpl.push([CKA.CLASS, CLASS_VALUES[f.class]]);
    if (f.type !== undefined) tmpl.push([CKA.KEY_TYPE, TYPE_VALUES[f.type]]);
    if (f.token !== undefined) tmpl.push([CKA.TOKEN, f.token]);
    const refs = await call(this.#ctx.native.findObjects(this.#ctx.session(), tmpl));
    const loaded = await Promise.allSettled(refs.map((r) => this.#load(r)));
    const keys = loaded.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    // Certificates and data objects share CKA_ID and CKA_LABEL with keys; they are not keys.
    const failed = loaded.flatMap((r) => (r.status === 'rejected' ? [fromNative(r.reason)] : []))
      .filter((e) => !(e instanceof NotAKeyError));
    if (failed.length === 0) return keys;
    // A key that fails its integrity check is reported, never hidden; the intact ones ride along.
    const damaged = failed.filter((e): e is HsmIntegrityError => e instanceof HsmIntegrityError);
    if (damaged.length !== failed.length) throw failed.find((e) => !(e instanceof HsmIntegrityError));
    throw new DamagedKeysError(damaged, keys);
  }

  async #matches(k: KeyHandle, f: KeyFilter): Promise<boolean> {
    if ((f.class && k.class !== f.class) || (f.type && k.type !== f.type)) return false;
    if (f.label === undefined && f.id === undefined && f.token === undefined) return true;
    const info = await k.info();
    return (f.label === undefined || info.label === f.label) && (f.token === undefined || info.token === f.token) &&
      (f.id === undefined || Buffer.from(info.id).equals(Buffer.from(f.id)));
  }

  async #pair(mech: number, publicMaterial: Array<[number, number | Uint8Array]>, attrs: KeyAttributes, type: KeyType, curve: CurveName | undefined): Promise<KeyPair> {
    const pub = [...publicMaterial, ...toTemplate(attrs, PUBLIC_HALF)];
    const priv = toTemplate(attrs, PRIVATE_HALF);
    const [p, s] = await call(this.#ctx.native.generateKeyPair(this.#ctx.session(), mech, pub, priv));
    return { publicKey: this.#made(p, 'public-key', type, curve), privateKey: this.#made(s, 'private-key', type, curve) };
  }

  /** A handle for a key this call just made: what it is is known, so nothing is read back. */
  #made(ref: number, cls: KeyClass, type: KeyType, curve?: CurveName): KeyHandle {
    return new KeyHandle(this.#ctx, ref, cls, type, curve);
  }

  #load(ref: number): Promise<KeyHandle> {
    return KeyHandle.load(this.#ctx, ref);
  }
}

/** CloudHSM CLI filter strings → a KeyFilter. */
export function parseCliFilter(filters: readonly string[]): KeyFilter {
  const out: { -readonly [K in keyof KeyFilter]: KeyFilter[K] } = {};
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new TypeError(`filter '${f}' must be name=value`);
    const name = f.slice(0, eq);
    const value = f.slice(eq + 1);
    switch (name) {
      case 'attr.label': out.label = value; break;
      case 'attr.id': out.id = Buffer.from(value.replace(/^0x/, ''), 'hex'); break;
      case 'attr.class':
        if (!(value in CLASS_VALUES)) throw new RangeError(`attr.class must be one of ${Object.keys(CLASS_VALUES).join(', ')}`);
        out.class = value as KeyClass;
        break;
      case 'attr.key-type':
        if (!(value in TYPE_VALUES)) throw new RangeError(`attr.key-type must be one of ${Object.keys(TYPE_VALUES).join(', ')}`);
        out.type = value as KeyType;
        break;
      case 'attr.token': out.token = value === 'true'; break;
      case 'key-reference': out.ref = Number.parseInt(value, value.startsWith('0x') ? 16 : 10); break;
      default: throw new RangeError(`unknown filter '${name}' (attr.label, attr.id, attr.class, attr.key-type, attr.token, key-reference)`);
    }
  }
  return out;
}
