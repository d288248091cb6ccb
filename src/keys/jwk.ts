// src/keys/jwk.ts
// The JSON Web Key shape (RFC 7517; members from RFC 7518 and RFC 8037) that sealhsm takes and
// returns. Ours, not node:crypto's: current @types/node no longer exports a JsonWebKey, and the
// public types must not depend on which one a user has installed.

/** A JSON Web Key: public members always; private ones (d, p, q, dp, dq, qi, k) only on input. */
export interface JsonWebKey {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  k?: string;
  alg?: string;
  use?: string;
  kid?: string;
  key_ops?: string[];
  ext?: boolean;
  [member: string]: unknown;
}
