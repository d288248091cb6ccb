// src/keys/export.ts
// Public keys out of the token in common formats. The token returns the SPKI (CKA_PUBLIC_KEY_INFO)
// of both halves of a key pair; node:crypto renders it as PEM or JWK. Private parts never come out.

import { createHash, createPublicKey } from 'node:crypto';

import * as pkijs from 'pkijs';

import type { JsonWebKey } from './jwk.js';

/** SubjectPublicKeyInfo DER → PEM. */
export function spkiToPem(spki: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }) as string;
}

/** SubjectPublicKeyInfo DER → JWK (public members only). */
export function spkiToJwk(spki: Uint8Array): JsonWebKey {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
}

/** The raw point inside a DER OCTET STRING (CKA_EC_POINT) — e.g. 65 bytes 04||X||Y for P-256. */
export function ecPointFromAttribute(attr: Uint8Array): Uint8Array {
  if (attr[0] !== 0x04 || attr.length < 2) throw new RangeError('CKA_EC_POINT is not a DER OCTET STRING');
  const first = attr[1] ?? 0;
  const [len, off] = first < 0x80 ? [first, 2] : first === 0x81 ? [attr[2] ?? 0, 3] : [((attr[2] ?? 0) << 8) | (attr[3] ?? 0), 4];
  if (off + len !== attr.length) throw new RangeError('CKA_EC_POINT has a bad length');
  return attr.subarray(off);
}

/** RFC 5280's key identifier (method 1): the SHA-1 of the subjectPublicKey bits of an SPKI. What a
 *  certificate's subjectKeyIdentifier holds, and the CKA_ID sealhsm gives token key pairs. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  const info = pkijs.PublicKeyInfo.fromBER(new Uint8Array(spki));
  return createHash('sha1').update(info.subjectPublicKey.valueBlock.valueHexView).digest();
}
