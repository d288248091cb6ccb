// src/keys/curves.ts
// Named curves by their JOSE / OpenSSL names and their CKA_EC_PARAMS encodings (DER OIDs from
// SEC 2, RFC 5480 and RFC 8410). The same facts as native/core/curves.cc, for the TS helpers.

import { CKK } from '../native/pkcs11_gen.js';

export interface CurveInfo {
  /** Name as sealhsm reports it. */
  readonly name: 'secp224r1' | 'secp256r1' | 'secp384r1' | 'secp521r1' | 'secp256k1' | 'ed25519';
  /** JWK `crv`. */
  readonly jwk: string;
  readonly keyType: number;
  /** CKA_EC_PARAMS. */
  readonly params: Uint8Array;
  /** Coordinate length in bytes. */
  readonly size: number;
}

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

export const CURVES: readonly CurveInfo[] = [
  { name: 'secp224r1', jwk: 'P-224', keyType: CKK.EC, params: hex('06052b81040021'), size: 28 },
  { name: 'secp256r1', jwk: 'P-256', keyType: CKK.EC, params: hex('06082a8648ce3d030107'), size: 32 },
  { name: 'secp384r1', jwk: 'P-384', keyType: CKK.EC, params: hex('06052b81040022'), size: 48 },
  { name: 'secp521r1', jwk: 'P-521', keyType: CKK.EC, params: hex('06052b81040023'), size: 66 },
  { name: 'secp256k1', jwk: 'secp256k1', keyType: CKK.EC, params: hex('06052b8104000a'), size: 32 },
  { name: 'ed25519', jwk: 'Ed25519', keyType: CKK.EC_EDWARDS, params: hex('06032b6570'), size: 32 },
];

export type CurveName = CurveInfo['name'];

/** Finds a curve by sealhsm name, JWK name, or the aliases 'P-256' / 'prime256v1'. */
export function curveByName(name: string): CurveInfo {
  const c = CURVES.find((x) => x.name === name || x.jwk === name || (name === 'prime256v1' && x.name === 'secp256r1'));
  if (c === undefined) throw new RangeError(`curve must be one of ${CURVES.map((x) => x.name).join(', ')}; got '${name}'`);
  return c;
}

/** Finds a curve by CKA_EC_PARAMS bytes. */
export function curveByParams(params: Uint8Array): CurveInfo | undefined {
  return CURVES.find((c) => Buffer.from(c.params).equals(Buffer.from(params)));
}
