// src/jose/jwks.ts
//
// Public keys of HSM keys as JWKs and as a JWKS document, with RFC 7638 thumbprints as `kid`s: what a
// service publishes at /.well-known/jwks.json so others verify the tokens it signs in the HSM.

import { createHash } from 'node:crypto';

import type { JsonWebKey } from '../keys/jwk.js';
import { defaultAlgorithm, algorithmFor, type JwsAlgorithm } from './algorithms.js';
import { hsmHandle, type JoseKey } from './jws.js';

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const REQUIRED: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/** The RFC 7638 JWK thumbprint (SHA-256, base64url). */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = REQUIRED[String(jwk.kty)];
  if (members === undefined) throw new TypeError(`no thumbprint for kty ${String(jwk.kty)}`);
  const json = `{${members.map((m) => {
    if (typeof jwk[m] !== 'string') throw new TypeError(`JWK member ${m} is missing`);
    return `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`;
  }).join(',')}}`;
  return createHash('sha256').update(json).digest('base64url');
}

/** An HSM key's public JWK with `kid` (its thumbprint), `alg` and `use: 'sig'`. */
export async function publicJwk(key: JoseKey, options: { alg?: JwsAlgorithm; kid?: string } = {}): Promise<JsonWebKey> {
  const handle = hsmHandle(key);
  const alg = options.alg ?? defaultAlgorithm(handle);
  algorithmFor(alg, handle);
  const jwk = await handle.exportPublicKey('jwk');
  return { ...jwk, kid: options.kid ?? jwkThumbprint(jwk), alg, use: 'sig' };
}

/** A JWKS document (`{ keys: [...] }`) of these keys' public parts. */
export async function createJwks(keys: ReadonlyArray<JoseKey | { key: JoseKey; alg?: JwsAlgorithm; kid?: string }>): Promise<{ keys: JsonWebKey[] }> {
  return {
    keys: await Promise.all(keys.map((k) => ('key' in k ? publicJwk(k.key, { ...(k.alg && { alg: k.alg }), ...(k.kid && { kid: k.kid }) }) : publicJwk(k as JoseKey)))),
  };
}
