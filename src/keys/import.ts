// src/keys/import.ts
//
// Key material in common formats (PKCS#8, SPKI, PEM, JWK, raw) → a C_CreateObject template.
// node:crypto parses and validates the format; we only re-express the key as PKCS#11 attributes.
// The template holds the caller's secret bytes; it goes straight to the token and is not kept.

import { createPrivateKey, createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';

import type { AttributeInput } from '../native/binding.js';
import { CKA, CKK, CKO } from '../native/pkcs11_gen.js';
import { curveByName } from './curves.js';

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
    return kind === 'private' ? createPrivateKey({ key: input.jwk, format: 'jwk' }) : createPublicKey({ key: input.jwk, format: 'jwk' });
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
function ecPoint(pub: KeyObject, size: number): Uint8Array {
  const spki = pub.export({ format: 'der', type: 'spki' });
  return Uint8Array.from(spki.subarray(spki.length - (2 * size + 1))); // uncompressed point ends the SPKI
}
function ecScalar(priv: KeyObject, size: number): Uint8Array {
  // SEC 1 ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING d, ... }
  const der = priv.export({ format: 'der', type: 'sec1' });
  const at = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  if (der[at] !== 0x02 || der[at + 3] !== 0x04 || der[at + 4] !== size) throw new TypeError('unexpected SEC 1 private key encoding');
  return Uint8Array.from(der.subarray(at + 5, at + 5 + size));
}

/** The attributes describing the key material of a private key (class, type and components). */
export function privateKeyTemplate(input: KeyInput): Template {
  if (isRaw(input)) {
    const curve = curveByName(input.curve);
    return [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, curve.keyType], [CKA.EC_PARAMS, curve.params], [CKA.VALUE, input.value]];
  }
  const key = toKeyObject(input, 'private');
  if (key.type !== 'private') throw new TypeError('expected a private key');
  if (key.asymmetricKeyType === 'ec') {
    const curve = ecCurve(key);
    return [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.EC], [CKA.EC_PARAMS, curve.params], [CKA.VALUE, ecScalar(key, curve.size)]];
  }
  const jwk = key.export({ format: 'jwk' });
  switch (jwk.kty) {
    case 'RSA':
      return [
        [CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, CKK.RSA],
        [CKA.MODULUS, b64u(jwk.n, 'n')], [CKA.PUBLIC_EXPONENT, b64u(jwk.e, 'e')],
        [CKA.PRIVATE_EXPONENT, b64u(jwk.d, 'd')], [CKA.PRIME_1, b64u(jwk.p, 'p')], [CKA.PRIME_2, b64u(jwk.q, 'q')],
        [CKA.EXPONENT_1, b64u(jwk.dp, 'dp')], [CKA.EXPONENT_2, b64u(jwk.dq, 'dq')], [CKA.COEFFICIENT, b64u(jwk.qi, 'qi')],
      ];
    case 'OKP': {
      const curve = curveByName(String(jwk.crv));
      return [[CKA.CLASS, CKO.PRIVATE_KEY], [CKA.KEY_TYPE, curve.keyType], [CKA.EC_PARAMS, curve.params], [CKA.VALUE, b64u(jwk.d, 'd')]];
    }
    default:
      throw new TypeError(`unsupported key type '${String(jwk.kty)}'`);
  }
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
