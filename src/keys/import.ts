// src/keys/import.ts
//
// Key material in common formats (PKCS#8, SPKI, PEM, JWK, raw) → a C_CreateObject template.
// node:crypto parses and validates the format; we only re-express the key as PKCS#11 attributes.
// The template holds the caller's secret bytes; it goes straight to the token and is not kept.

import { createPrivateKey, createPublicKey, KeyObject, type JsonWebKeyInput } from 'node:crypto';

import type { AttributeInput } from '../native/binding.js';
import { CKA, CKK, CKO } from '../native/pkcs11_gen.js';
import { curveByName } from './curves.js';
import type { JsonWebKey } from './jwk.js';

export type Template = Array<[number, AttributeInput]>;

/** An asymmetric key as PEM text, DER bytes (PKCS#8 / SPKI), a JWK, or a node:crypto KeyObject. */
export type KeyInput =
  | KeyObject
  | string
  | { readonly format: 'der'; readonly type: 'pkcs8' | 'spki'; readonly data: Uint8Array }
  | { readonly format: 'jwk'; readonly jwk: JsonWebKey }
  /** EC / Ed25519: the private scalar (or seed), or the public point (uncompressed, compressed, or 32 bytes). */
  | { readonly format: 'raw'; readonly curve: string; readonly value: Uint8Array };

function isRaw(input: KeyInput): input is Extract<KeyInput, { format: 'raw' }> {
  return typeof input === 'object' && !(input instanceof KeyObject) && input.format === 'raw';
}

const b64u = (s: string | undefined, what: string): Uint8Array => {
  if (typeof s !== 'string') throw new TypeError(`JWK member '${what}' is missing`);
  return Uint8Array.from(Buffer.from(s, 'base64url'));
};

function toKeyObject(input: Exclude<KeyInput, { format: 'raw' }>, kind: 'private' | 'public'): KeyObject {
  if (input instanceof KeyObject) return input;
  if (typeof input === 'string') return kind === 'private' ? createPrivateKey(input) : createPublicKey(input);
  if (input.format === 'jwk') {
    const key = input.jwk as JsonWebKeyInput['key'];
    return kind === 'private' ? createPrivateKey({ key, format: 'jwk' }) : createPublicKey({ key, format: 'jwk' });
  }
  const der = Buffer.from(input.data);
  if (input.type === 'pkcs8') {
    const priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return kind === 'private' ? priv : createPublicKey(priv);
  }
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/** DER OCTET STRING around a raw EC point (CKA_EC_POINT's encoding). */
export function octetString(raw: Uint8Array): Uint8Array {
  const len = raw.length;
  const hdr = len < 128 ? [0x04, len] : len < 256 ? [0x04, 0x81, len] : [0x04, 0x82, len >> 8, len & 0xff];
  return Uint8Array.from([...hdr, ...raw]);
}

// EC keys go through DER rather than JWK: node's JWK export does not cover every curve we support.
function ecCurve(key: KeyObject) {
  return curveByName(String(key.asymmetricKeyDetails?.namedCurve));
}
// The SPKI ends with BIT STRING { 0 unused bits, the point }, and node keeps the point in the form it
// was given: uncompressed (2 * size + 1 bytes) or compressed (size + 1), which the token takes too.
function ecPoint(pub: KeyObject, size: number): Uint8Array {
  const spki = pub.export({ format: 'der', type: 'spki' });
  for (const n of [2 * size + 1, size + 1]) {
    const at = spki.length - n;
    const form = n === 2 * size + 1 ? spki[at] === 0x04 : spki[at] === 0x02 || spki[at] === 0x03;
    if (at >= 2 && form && spki[at - 1] === 0 && spki[at - 2] === n + 1) return Uint8Array.from(spki.subarray(at));
  }
  throw new TypeError('the EC public key has no point sealhsm can read');
}
const PKCS8_KEY_TYPES: Record<string, number> = { rsa: CKK.RSA, ec: CKK.EC, ed25519: CKK.EC_EDWARDS };

const PEM_PKCS8 = /^\s*-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----\s*$/;

/** PKCS#8 input that needs no parsing here: DER bytes as given, or an unencrypted PEM decoded into an
 *  ArrayBuffer of our own (V8 never copies it; `wipe` zeroes it). Other forms go through node:crypto. */
function directPkcs8(input: KeyInput): { der: Uint8Array; wipe: () => void } | undefined {
  if (typeof input === 'object' && !(input instanceof KeyObject) && input.format === 'der' && input.type === 'pkcs8') {
    return { der: input.data, wipe: () => {} };
  }
  if (typeof input !== 'string') return undefined;
  const m = PEM_PKCS8.exec(input);
  if (m === null) return undefined;
  const der = base64Into(m[1]!);
  return { der, wipe: () => der.fill(0) };
}

const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/** Base64 text (white space allowed) decoded straight into an ArrayBuffer of its own: node's decoder
 *  may stage the bytes in a scratch buffer it frees unwiped, and this is a private key. */
function base64Into(text: string): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(Math.floor((text.length * 3) / 4) + 3));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) break; // '=' ends the data
    const v = c < 128 ? B64[c]! : -1;
    if (v < 0) {
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      out.fill(0);
      throw new TypeError('the PEM body is not base64');
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  acc = 0;
  return out.subarray(0, n);
}

// The algorithm OID of a PrivateKeyInfo, read from its first 22 bytes (the version and algorithm
// identifier: no key byte is copied into a string).
const KEY_OIDS: Array<[string, number]> = [['2a864886f70d010101', CKK.RSA], ['2a8648ce3d0201', CKK.EC], ['2b6570', CKK.EC_EDWARDS]];
function pkcs8KeyType(der: Uint8Array): number {
  const head = Buffer.from(der.buffer, der.byteOffset, Math.min(der.length, 22)).toString('hex');
  for (const [oid, kt] of KEY_OIDS) if (head.includes(`06${(oid.length / 2).toString(16).padStart(2, '0')}${oid}`)) return kt;
  throw new TypeError('unsupported PKCS#8 key algorithm (RSA, EC and Ed25519 are)');
}

/** A private key's template and a `wipe()` for the buffers this module made for it. */
export interface PrivateKeyMaterial {
  readonly template: Template;
  /** Zeroes the key bytes we made (never the caller's own input). Call it once the template was sent. */
  wipe(): void;
}

/** A private key as attributes: the whole key as one PKCS#8 blob (`CKA_SEALHSM_PKCS8`), which the token
 *  parses and checks itself, so no key component is ever spelled out in JavaScript memory; a raw
 *  EC / Ed25519 scalar goes as `CKA_VALUE`. */
export function privateKeyMaterial(input: KeyInput): PrivateKeyMaterial {
  const pkcs8 = directPkcs8(input);
  if (pkcs8 !== undefined) {
    // The token reads the key type from the PKCS#8 itself; CKA_KEY_TYPE must agree with it.
    return { template: [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, pkcs8KeyType(pkcs8.der)], [CKA.SEALHSM_PKCS8, pkcs8.der]], wipe: pkcs8.wipe };
  }
  if (isRaw(input)) {
    const curve = curveByName(input.curve);
    return { template: [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, curve.keyType], [CKA.EC_PARAMS, curve.params], [CKA.VALUE, input.value]], wipe: () => {} };
  }
  const key = toKeyObject(input, 'private');
  if (key.type !== 'private') throw new TypeError('expected a private key');
  const keyType = PKCS8_KEY_TYPES[String(key.asymmetricKeyType)];
  if (keyType === undefined) throw new TypeError(`unsupported key type '${String(key.asymmetricKeyType)}'`);
  const der = key.export({ format: 'der', type: 'pkcs8' }); // its own allocation, not the Buffer pool
  return { template: [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, keyType], [CKA.SEALHSM_PKCS8, der]], wipe: () => der.fill(0) };
}

/** The attributes describing the key material of a private key (see privateKeyMaterial, which also
 *  wipes what it made). */
export function privateKeyTemplate(input: KeyInput): Template {
  return privateKeyMaterial(input).template;
}

/** The attributes describing a public key (class, type, modulus/exponent or curve/point). */
export function publicKeyTemplate(input: KeyInput): Template {
  if (isRaw(input)) {
    const curve = curveByName(input.curve);
    return [[CKA.CLASS, CKO.PUBLIC_KEY], [CKA.KEY_TYPE, curve.keyType], [CKA.EC_PARAMS, curve.params], [CKA.EC_POINT, octetString(input.value)]];
  }
  const key = toKeyObject(input, 'public');
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType === 'ec') {
    const curve = ecCurve(pub);
    return [[CKA.CLASS, CKO.PUBLIC_KEY], [CKA.KEY_TYPE, CKK.EC], [CKA.EC_PARAMS, curve.params], [CKA.EC_POINT, octetString(ecPoint(pub, curve.size))]];
  }
  const jwk = pub.export({ format: 'jwk' });
  switch (jwk.kty) {
    case 'RSA':
      return [[CKA.CLASS, CKO.PUBLIC_KEY], [CKA.KEY_TYPE, CKK.RSA], [CKA.MODULUS, b64u(jwk.n, 'n')], [CKA.PUBLIC_EXPONENT, b64u(jwk.e, 'e')]];
    case 'OKP': {
      const curve = curveByName(String(jwk.crv));
      return [[CKA.CLASS, CKO.PUBLIC_KEY], [CKA.KEY_TYPE, curve.keyType], [CKA.EC_PARAMS, curve.params], [CKA.EC_POINT, octetString(b64u(jwk.x, 'x'))]];
    }
    default:
      throw new TypeError(`unsupported key type '${String(jwk.kty)}'`);
  }
}

/** A raw secret key: AES (16/24/32 bytes) or a generic secret (HMAC, KDF input; 1..800 bytes). */
export function secretKeyTemplate(value: Uint8Array, type: 'aes' | 'generic'): Template {
  if (!(value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array');
  return [[CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, type === 'aes' ? CKK.AES : CKK.GENERIC_SECRET], [CKA.VALUE, value]];
}
