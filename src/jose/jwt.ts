// src/jose/jwt.ts
//
// JWTs (RFC 7519) signed in the HSM, and their verification with the registered claims checked
// (exp, nbf, iss, aud, sub, iat age) the way jose's jwtVerify checks them.

import { JoseError } from './errors.js';
import { signCompact, verifyCompact, type JoseKey, type JwsHeader, type VerificationKey, type VerifyOptions } from './jws.js';
import type { JwsAlgorithm } from './algorithms.js';

export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

/** A duration in seconds, or '30s', '15m', '2h', '7d'. */
export type Duration = number | string;

export interface SignJwtOptions {
  readonly alg?: JwsAlgorithm;
  readonly kid?: string;
  /** Extra protected-header members (`typ` defaults to 'JWT'). */
  readonly header?: Omit<JwsHeader, 'alg' | 'kid'>;
  readonly issuer?: string;
  readonly subject?: string;
  readonly audience?: string | string[];
  /** Sets exp this long after iat. */
  readonly expiresIn?: Duration;
  /** Sets nbf: a Date, or this long after iat. */
  readonly notBefore?: Duration | Date;
  readonly jwtId?: string;
  /** iat: now unless false, or a given Date. */
  readonly issuedAt?: boolean | Date;
}

export interface VerifyJwtOptions extends VerifyOptions {
  readonly issuer?: string | readonly string[];
  readonly audience?: string | readonly string[];
  readonly subject?: string;
  /** Seconds of clock skew to allow for exp and nbf (or a Duration). */
  readonly clockTolerance?: Duration;
  /** Refuse tokens whose iat is older than this. */
  readonly maxTokenAge?: Duration;
  readonly requiredClaims?: readonly string[];
  readonly typ?: string;
  readonly currentDate?: Date;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

function seconds(d: Duration, what: string): number {
  if (typeof d === 'number' && Number.isFinite(d)) return d;
  const m = typeof d === 'string' ? /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(d.trim()) : null;
  if (m === null) throw new TypeError(`${what} must be seconds or like '30s', '15m', '2h', '7d'`);
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

const epoch = (d: Date): number => Math.floor(d.getTime() / 1000);

/** Signs a JWT in the HSM. */
export async function signJwt(claims: JwtClaims, key: JoseKey, options: SignJwtOptions = {}): Promise<string> {
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new TypeError('claims must be an object');
  const now = options.issuedAt instanceof Date ? epoch(options.issuedAt) : epoch(new Date());
  const payload: JwtClaims = { ...claims };
  if (options.issuedAt !== false) payload.iat = now;
  if (options.issuer !== undefined) payload.iss = options.issuer;
  if (options.subject !== undefined) payload.sub = options.subject;
  if (options.audience !== undefined) payload.aud = options.audience;
  if (options.jwtId !== undefined) payload.jti = options.jwtId;
  if (options.expiresIn !== undefined) payload.exp = now + seconds(options.expiresIn, 'expiresIn');
  if (options.notBefore !== undefined) payload.nbf = options.notBefore instanceof Date ? epoch(options.notBefore) : now + seconds(options.notBefore, 'notBefore');
  const header: JwsHeader = { typ: 'JWT', ...options.header, ...(options.alg && { alg: options.alg }), ...(options.kid !== undefined && { kid: options.kid }) };
  return signCompact(JSON.stringify(payload), key, header);
}

/** Verifies a JWT's signature and claims; returns its header and payload. */
export async function verifyJwt(token: string, key: VerificationKey, options: VerifyJwtOptions = {}): Promise<{ header: JwsHeader; payload: JwtClaims }> {
  const { header, payload: bytes } = await verifyCompact(token, key, options);
  let payload: JwtClaims;
  try {
    payload = JSON.parse(Buffer.from(bytes).toString('utf8')) as JwtClaims;
  } catch {
    throw new JoseError('ERR_JWT_INVALID', 'the JWT payload is not JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new JoseError('ERR_JWT_INVALID', 'the JWT payload is not a JSON object');
  if (options.typ !== undefined && header.typ !== options.typ) throw new JoseError('ERR_JWT_CLAIM_VALIDATION_FAILED', `typ must be ${options.typ}`, 'typ');
  const now = epoch(options.currentDate ?? new Date());
  const tolerance = options.clockTolerance === undefined ? 0 : seconds(options.clockTolerance, 'clockTolerance');
  const fail = (claim: string, message: string): never => { throw new JoseError('ERR_JWT_CLAIM_VALIDATION_FAILED', message, claim); };
  for (const c of options.requiredClaims ?? []) if (!(c in payload)) fail(c, `missing required claim ${c}`);
  for (const c of ['exp', 'nbf', 'iat'] as const) if (payload[c] !== undefined && typeof payload[c] !== 'number') throw new JoseError('ERR_JWT_INVALID', `${c} must be a number`);
  if (payload.exp !== undefined && payload.exp <= now - tolerance) throw new JoseError('ERR_JWT_EXPIRED', '"exp" claim timestamp check failed', 'exp');
  if (payload.nbf !== undefined && payload.nbf > now + tolerance) fail('nbf', '"nbf" claim timestamp check failed');
  if (options.issuer !== undefined && !([] as string[]).concat(options.issuer).includes(payload.iss as string)) fail('iss', 'unexpected "iss" claim value');
  if (options.subject !== undefined && payload.sub !== options.subject) fail('sub', 'unexpected "sub" claim value');
  if (options.audience !== undefined) {
    const want = ([] as string[]).concat(options.audience);
    const have = payload.aud === undefined ? [] : ([] as string[]).concat(payload.aud);
    if (!have.some((a) => want.includes(a))) fail('aud', 'unexpected "aud" claim value');
  }
  if (options.maxTokenAge !== undefined) {
    if (typeof payload.iat !== 'number') fail('iat', 'missing "iat" claim for maxTokenAge');
    if (now - payload.iat! - tolerance > seconds(options.maxTokenAge, 'maxTokenAge')) throw new JoseError('ERR_JWT_EXPIRED', '"iat" claim timestamp check failed (too far in the past)', 'iat');
  }
  return { header, payload };
}
