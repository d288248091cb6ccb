// test/jose.test.ts — JWS and JWT signed in the HSM, judged by jose (jwtVerify over a
// createLocalJWKSet of our JWKS), and jose-made tokens verified by ours.

import { generateKeyPairSync } from 'node:crypto';

import * as jose from 'jose';
import { afterAll, describe, expect, it } from 'vitest';

import { createJwks, JoseError, jwkThumbprint, publicJwk, signJws, signJwt, verifyJws, verifyJwt, type JwsAlgorithm, type KeyPair, type SealHsm } from '../src/index.js';
import { cryptoUser } from './helpers/hsm.js';

const open: SealHsm[] = [];
afterAll(() => open.forEach((h) => h.close()));

async function hsmFor(): Promise<SealHsm> {
  const hsm = await cryptoUser('cloudhsm');
  open.push(hsm);
  return hsm;
}

async function keyFor(hsm: SealHsm, alg: JwsAlgorithm): Promise<KeyPair> {
  if (alg === 'EdDSA') return hsm.keys.generateEd25519();
  if (alg.startsWith('ES')) return hsm.keys.generateEc({ curve: ({ ES256: 'secp256r1', ES384: 'secp384r1', ES512: 'secp521r1' } as const)[alg as 'ES256'] });
  return hsm.keys.generateRsa({ modulusBits: 2048 });
}

const ALGS: JwsAlgorithm[] = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];
const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e as { code?: string }).code ?? String(e));

describe('JWTs signed in the HSM, verified by jose', () => {
  it.each(ALGS)('%s', async (alg) => {
    const hsm = await hsmFor();
    const pair = await keyFor(hsm, alg);
    const jwks = await createJwks([{ key: pair.publicKey, alg }]);
    const kid = jwks.keys[0]!.kid as string;
    const token = await signJwt({ scope: 'read' }, pair.privateKey, { alg, kid, issuer: 'https://issuer.test', audience: 'api', subject: 'u-1', expiresIn: '5m', jwtId: 'j1' });
    const { payload, protectedHeader } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks as jose.JSONWebKeySet), { issuer: 'https://issuer.test', audience: 'api', algorithms: [alg] });
    expect(protectedHeader).toEqual({ typ: 'JWT', alg, kid });
    expect(payload).toMatchObject({ scope: 'read', iss: 'https://issuer.test', aud: 'api', sub: 'u-1', jti: 'j1' });
    expect(payload.exp! - payload.iat!).toBe(300);
    // and by ours, with the JWKS and with the HSM public key
    expect((await verifyJwt(token, jwks, { audience: 'api', algorithms: [alg] })).payload.scope).toBe('read');
    expect((await verifyJwt(token, pair.publicKey)).payload.sub).toBe('u-1');
    // the kid is jose's RFC 7638 thumbprint
    expect(kid).toBe(await jose.calculateJwkThumbprint(await jose.exportJWK(await jose.importJWK(jwks.keys[0] as jose.JWK, alg) as CryptoKey)));
  });

  it('a compact JWS over bytes, with hsm.subtle CryptoKeys too', async () => {
    const hsm = await hsmFor();
    const keys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const jws = await signJws(new Uint8Array([1, 2, 3]), keys.privateKey, { kid: 'k' });
    const jwk = await publicJwk(keys.publicKey);
    const { payload, protectedHeader } = await jose.compactVerify(jws, await jose.importJWK(jwk as jose.JWK, 'ES256'));
    expect([...payload]).toEqual([1, 2, 3]);
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: 'k' });
    expect([...(await verifyJws(jws, keys.publicKey)).payload]).toEqual([1, 2, 3]);
  });

  it('concurrent signing: 300 tokens at once', async () => {
    const hsm = await hsmFor();
    const pair = await hsm.keys.generateEc({ curve: 'secp256r1' });
    const tokens = await Promise.all(Array.from({ length: 300 }, (_, i) => signJwt({ n: i }, pair.privateKey)));
    const jwks = jose.createLocalJWKSet(await createJwks([pair.publicKey]) as jose.JSONWebKeySet);
    const ok = await Promise.all(tokens.map((t) => jose.jwtVerify(t, jwks)));
    expect(ok.map((r) => r.payload.n)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

describe('jose-made tokens verified by ours', () => {
  it.each(ALGS)('%s', async (alg) => {
    const { privateKey, publicKey } = alg === 'EdDSA' ? generateKeyPairSync('ed25519')
      : alg.startsWith('ES') ? generateKeyPairSync('ec', { namedCurve: ({ ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, string>)[alg]! })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'their-key', alg };
    const token = await new jose.SignJWT({ role: 'admin' }).setProtectedHeader({ alg, kid: 'their-key' }).setIssuedAt().setExpirationTime('2m').setAudience('svc').sign(privateKey);
    const { payload } = await verifyJwt(token, { keys: [jwk] }, { audience: 'svc', algorithms: [alg] });
    expect(payload.role).toBe('admin');
    // a public key imported into the HSM verifies it there as well
    const hsm = await hsmFor();
    const inHsm = await hsm.keys.importPublicKey(publicKey);
    expect((await verifyJwt(token, inHsm)).payload.role).toBe('admin');
  });
});

describe('what verification refuses', () => {
  it('bad signatures, disallowed or confused algorithms, unknown kids, and failed claims', async () => {
    const hsm = await hsmFor();
    const ec = await hsm.keys.generateEc({ curve: 'secp256r1' });
    const rsa = await hsm.keys.generateRsa({ modulusBits: 2048 });
    const jwks = await createJwks([ec.publicKey, rsa.publicKey]);
    const token = await signJwt({}, ec.privateKey, { kid: jwks.keys[0]!.kid as string, audience: 'a', issuer: 'i', expiresIn: 60 });
    const [h, p, s] = token.split('.');
    const flipped = Buffer.from(s!, 'base64url');
    flipped[0]! ^= 1;
    expect(await codeOf(verifyJwt(`${h}.${p}.${flipped.toString('base64url')}`, jwks))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    expect(await codeOf(verifyJwt(token, jwks, { algorithms: ['RS256'] }))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    // an RS256 header over the EC key: refused before any signature check
    const forged = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: jwks.keys[1]!.kid })).toString('base64url')}.${p}.${s}`;
    expect(await codeOf(verifyJwt(forged, ec.publicKey))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    expect(await codeOf(verifyJwt(forged, jwks))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    expect(await codeOf(verifyJwt(token, { keys: [jwks.keys[1]!] }))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(await codeOf(verifyJwt(token, jwks, { audience: 'b' }))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect(await codeOf(verifyJwt(token, jwks, { issuer: 'x' }))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect(await codeOf(verifyJwt(token, jwks, { currentDate: new Date(Date.now() + 61_000) }))).toBe('ERR_JWT_EXPIRED');
    expect(await codeOf(verifyJwt(token, jwks, { currentDate: new Date(Date.now() + 61_000), clockTolerance: '1m' }))).toBe('resolved');
    expect(await codeOf(verifyJwt(token, jwks, { requiredClaims: ['jti'] }))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    const later = await signJwt({}, ec.privateKey, { notBefore: '1h' });
    expect(await codeOf(verifyJwt(later, ec.publicKey))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect(await codeOf(verifyJwt('a.b', ec.publicKey))).toBe('ERR_JWS_INVALID');
    expect(await codeOf(verifyJwt(`${Buffer.from('{"alg":"ES256","crit":["x"]}').toString('base64url')}.${p}.${s}`, ec.publicKey))).toBe('ERR_JOSE_NOT_SUPPORTED');
    const err = await verifyJwt(token, jwks, { audience: 'b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoseError);
    expect((err as JoseError).claim).toBe('aud');
    await expect(signJwt({}, ec.privateKey, { alg: 'RS256' })).rejects.toThrow(TypeError);
    await expect(signJwt({}, ec.publicKey)).rejects.toThrow(/private key/);
  });

  it('thumbprints match RFC 7638 §3.1\'s example', () => {
    const jwk = {
      kty: 'RSA', e: 'AQAB', alg: 'RS256', kid: '2011-04-29',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});
