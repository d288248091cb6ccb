// src/jose/algorithms.ts
//
// The JWS algorithms (RFC 7518 §3, RFC 8037 §3.1) sealhsm signs with, each as the HSM mechanism
// that computes it and the key it needs, and as node:crypto's verify options for a public JWK.
// Signatures are in JWS form: ECDSA as r‖s (what the HSM returns), RSA as is.

import { constants } from 'node:crypto';

import type { KeyHandle } from '../client/key_handle.js';
import type { SignMechanism } from '../client/mechanisms.js';
import type { CurveName } from '../keys/curves.js';

export type JwsAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'EdDSA';

export interface JwsAlgorithmInfo {
  readonly keyType: 'ec' | 'rsa' | 'ed25519';
  readonly curve?: CurveName;
  readonly mechanism: SignMechanism;
  /** node:crypto's verify: digest name (null for EdDSA) and key options. */
  readonly hash: string | null;
  readonly verifyOptions: { dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number };
}

const es = (bits: 256 | 384 | 512, curve: CurveName): JwsAlgorithmInfo => ({
  keyType: 'ec', curve, mechanism: `ECDSA_SHA${bits}`, hash: `sha${bits}`, verifyOptions: { dsaEncoding: 'ieee-p1363' },
});
const rs = (bits: 256 | 384 | 512): JwsAlgorithmInfo => ({
  keyType: 'rsa', mechanism: `SHA${bits}_RSA_PKCS`, hash: `sha${bits}`, verifyOptions: { padding: constants.RSA_PKCS1_PADDING },
});
const ps = (bits: 256 | 384 | 512): JwsAlgorithmInfo => ({
  keyType: 'rsa', mechanism: { name: `SHA${bits}_RSA_PKCS_PSS`, saltLength: bits / 8 }, hash: `sha${bits}`,
  verifyOptions: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 },
});

export const JWS_ALGORITHMS: Readonly<Record<JwsAlgorithm, JwsAlgorithmInfo>> = {
  ES256: es(256, 'secp256r1'), ES384: es(384, 'secp384r1'), ES512: es(512, 'secp521r1'),
  RS256: rs(256), RS384: rs(384), RS512: rs(512), PS256: ps(256), PS384: ps(384), PS512: ps(512),
  EdDSA: { keyType: 'ed25519', mechanism: 'EDDSA', hash: null, verifyOptions: {} },
};

/** The algorithm a key signs with when none is named: ES* by curve, EdDSA, or RS256. */
export function defaultAlgorithm(key: KeyHandle): JwsAlgorithm {
  if (key.type === 'ed25519') return 'EdDSA';
  if (key.type === 'rsa') return 'RS256';
  const byCurve = (Object.keys(JWS_ALGORITHMS) as JwsAlgorithm[]).find((a) => JWS_ALGORITHMS[a].curve === key.curve);
  if (key.type === 'ec' && byCurve !== undefined) return byCurve;
  throw new TypeError(`a ${key.curve ?? key.type} key has no JWS algorithm (ES256/384/512, RS*, PS*, EdDSA)`);
}

/** The algorithm's facts, after checking it fits the key (no algorithm confusion). */
export function algorithmFor(alg: string, key: { type: string; curve?: string | undefined }): JwsAlgorithmInfo {
  const info = JWS_ALGORITHMS[alg as JwsAlgorithm];
  if (info === undefined) throw new TypeError(`unsupported JWS algorithm '${alg}' (${Object.keys(JWS_ALGORITHMS).join(', ')})`);
  if (info.keyType !== key.type || (info.curve !== undefined && info.curve !== key.curve)) {
    throw new TypeError(`${alg} needs ${info.curve ?? info.keyType} keys, not ${key.curve ?? key.type}`);
  }
  return info;
}
