// src/jose/jws.ts
//
// Compact JWS (RFC 7515) signed in the HSM. jose cannot sign with a foreign CryptoKey (it calls
// Node's own WebCrypto, which refuses one), so this signs the JWS signing input with the HSM key
// directly. Verification takes an HSM key (verified in the HSM), a public JWK, or a JWKS document
// (verified with node:crypto: public data only), and always an allow-list of algorithms.

import { createPublicKey, verify as verifySignature, type JsonWebKeyInput } from 'node:crypto';

import { KeyHandle } from '../client/key_handle.js';
import type { JsonWebKey } from '../keys/jwk.js';
import { handleOf } from '../webcrypto/key.js';
import { algorithmFor, defaultAlgorithm, JWS_ALGORITHMS, type JwsAlgorithm } from './algorithms.js';
import { JoseError } from './errors.js';

/** An HSM key: a KeyHandle from `hsm.keys`, or a CryptoKey from `hsm.subtle`. */
export type JoseKey = KeyHandle | { readonly type: string; readonly algorithm: unknown };

/** The protected header. `alg` is set from the key when not given. */
export interface JwsHeader {
  alg?: JwsAlgorithm;
  kid?: string;
  typ?: string;
  cty?: string;
  [member: string]: unknown;
}

/** What verification accepts: an HSM key, a public JWK, or a JWKS (`{ keys: [...] }`, chosen by `kid`). */
export type VerificationKey = JoseKey | JsonWebKey | { readonly keys: readonly JsonWebKey[] };

export interface VerifyOptions {
  /** The algorithms to accept (default: every one sealhsm signs with). */
  readonly algorithms?: readonly JwsAlgorithm[];
}

const enc = new TextEncoder();
const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

export function hsmHandle(key: JoseKey): KeyHandle {
  return key instanceof KeyHandle ? key : handleOf(key);
}

/** Signs `payload` into a compact JWS: header.payload.signature. */
export async function signCompact(payload: Uint8Array | string, key: JoseKey, header: JwsHeader = {}): Promise<string> {
  const handle = hsmHandle(key);
  if (handle.class !== 'private-key') throw new TypeError('a JWS is signed with a private key');
  const alg = header.alg ?? defaultAlgorithm(handle);
  const info = algorithmFor(alg, handle);
  const protectedHeader = b64u(enc.encode(JSON.stringify({ ...header, alg })));
  const body = b64u(typeof payload === 'string' ? enc.encode(payload) : payload);
  const input = enc.encode(`${protectedHeader}.${body}`);
  const signature = await handle.sign(input, info.mechanism);
  return `${protectedHeader}.${body}.${b64u(signature)}`;
}

/** Checks a compact JWS and returns its header and payload bytes. */
export async function verifyCompact(jws: string, key: VerificationKey, options: VerifyOptions = {}): Promise<{ header: JwsHeader; payload: Uint8Array }> {
  if (typeof jws !== 'string') throw new JoseError('ERR_JWS_INVALID', 'a compact JWS is a string');
  const parts = jws.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new JoseError('ERR_JWS_INVALID', 'a compact JWS has three base64url parts');
  let header: JwsHeader;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as JwsHeader;
  } catch {
    throw new JoseError('ERR_JWS_INVALID', 'the protected header is not JSON');
  }
  if (header === null || typeof header !== 'object' || typeof header.alg !== 'string') throw new JoseError('ERR_JWS_INVALID', 'the protected header has no alg');
  const allowed = options.algorithms ?? (Object.keys(JWS_ALGORITHMS) as JwsAlgorithm[]);
  if (!allowed.includes(header.alg)) throw new JoseError('ERR_JOSE_ALG_NOT_ALLOWED', `alg ${header.alg} is not allowed`);
  if (Array.isArray(header.crit) && header.crit.length > 0) throw new JoseError('ERR_JOSE_NOT_SUPPORTED', `critical header parameters are not understood: ${header.crit.join(', ')}`);
  const input = enc.encode(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2]!, 'base64url');
  const ok = await check(header, input, signature, key);
  if (!ok) throw new JoseError('ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'signature verification failed');
  return { header, payload: new Uint8Array(Buffer.from(parts[1]!, 'base64url')) };
}

async function check(header: JwsHeader, input: Uint8Array, signature: Uint8Array, key: VerificationKey): Promise<boolean> {
  const alg = header.alg!;
  if (key instanceof KeyHandle || isCryptoKey(key)) {
    const handle = hsmHandle(key as JoseKey);
    const info = withKey(alg, handle);
    return handle.verify(input, signature, info.mechanism);
  }
  const jwk = 'keys' in key && Array.isArray(key.keys) ? pick(key.keys, header) : (key as JsonWebKey);
  const pub = publicKey(jwk);
  const kind = pub.asymmetricKeyType === 'ed25519' ? 'ed25519' : pub.asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
  const curve = { 'P-256': 'secp256r1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }[String(jwk.crv)] ;
  const info = withKey(alg, { type: kind, curve });
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new JoseError('ERR_JOSE_ALG_NOT_ALLOWED', `the key is for ${jwk.alg}, the JWS uses ${alg}`);
  return verifySignature(info.hash, input, { key: pub, ...info.verifyOptions }, signature);
}

function withKey(alg: JwsAlgorithm, key: { type: string; curve?: string | undefined }) {
  try {
    return algorithmFor(alg, key);
  } catch (e) {
    throw new JoseError('ERR_JOSE_ALG_NOT_ALLOWED', (e as Error).message);
  }
}

function isCryptoKey(k: unknown): boolean {
  return Object.prototype.toString.call(k) === '[object CryptoKey]';
}

function pick(keys: readonly JsonWebKey[], header: JwsHeader): JsonWebKey {
  const candidates = keys.filter((k) => (header.kid === undefined || k.kid === header.kid) && (k.alg === undefined || k.alg === header.alg) && (k.use === undefined || k.use === 'sig'));
  if (candidates.length === 0) throw new JoseError('ERR_JWKS_NO_MATCHING_KEY', `no key in the JWKS matches kid ${header.kid ?? '(none)'} and alg ${header.alg}`);
  if (candidates.length > 1) throw new JoseError('ERR_JWKS_MULTIPLE_MATCHING_KEYS', `several keys in the JWKS match kid ${header.kid ?? '(none)'}`);
  return candidates[0]!;
}

function publicKey(jwk: JsonWebKey) {
  if (jwk === null || typeof jwk !== 'object' || typeof jwk.kty !== 'string') throw new JoseError('ERR_JWK_INVALID', 'not a JWK');
  if (jwk.d !== undefined) throw new JoseError('ERR_JWK_INVALID', 'verification takes a public JWK');
  try {
    return createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
  } catch (e) {
    throw new JoseError('ERR_JWK_INVALID', `the JWK is not a usable public key: ${(e as Error).message}`);
  }
}
