// src/aws/sigv4.ts
//
// SigV4 as an AWS service checks it, for every endpoint the server speaks. The credential scope is
// checked whole (the service's signing name, a Region the server serves, the date against
// X-Amz-Date), the signed Host against the names the server answers to, the session token against
// the one the credentials file gives that access key, and the payload: the body received is hashed
// here and a claimed x-amz-content-sha256 must equal it, so a signature covers the body it came
// with. The signature is recomputed with @smithy/signature-v4 (the SDK's own signer) and compared in
// constant time. `allowUnsigned` verifies nothing: throwaway tests only (the server says so).

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';

import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { parse as parseYaml } from 'yaml';

import { AwsError } from './errors.js';

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The 12-digit account this access key acts for. */
  readonly account: string;
  /** Temporary credentials: requests must carry this X-Amz-Security-Token (and no other). */
  readonly sessionToken?: string;
}

export interface SigV4Config {
  readonly keys: ReadonlyMap<string, AccessKey>;
  readonly allowUnsigned: boolean;
  /** The account of unsigned requests (allowUnsigned only). */
  readonly account: string;
  /** The Region of unsigned requests (allowUnsigned only). */
  readonly defaultRegion: string;
  readonly regions: ReadonlySet<string>;
  /** The signing name of the service: 'kms', 'secretsmanager', 'ssm'. */
  readonly service: string;
  /** Whether a signed Host header names this server. */
  readonly host: (host: string) => boolean;
}

export interface Identity {
  readonly accessKeyId: string;
  readonly account: string;
  readonly region: string;
}

/** A credentials file: YAML or JSON, `accessKeys: [{ accessKeyId, secretAccessKey, account, sessionToken? }]`. */
export function readCredentials(path: string): AccessKey[] {
  const doc = parseYaml(readFileSync(path, 'utf8')) as { accessKeys?: unknown } | null;
  const list = doc?.accessKeys;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${path}: expected accessKeys: [{ accessKeyId, secretAccessKey, account }]`);
  return list.map((k: Partial<AccessKey>, i) => {
    if (typeof k.accessKeyId !== 'string' || typeof k.secretAccessKey !== 'string' || typeof k.account !== 'string' || !/^\d{12}$/.test(k.account)) {
      throw new TypeError(`${path}: accessKeys[${i}] needs accessKeyId, secretAccessKey and a 12-digit account`);
    }
    if (k.sessionToken !== undefined && (typeof k.sessionToken !== 'string' || k.sessionToken === '')) throw new TypeError(`${path}: accessKeys[${i}].sessionToken must be a non-empty string`);
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, account: k.account, ...(k.sessionToken !== undefined && { sessionToken: k.sessionToken }) };
  });
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60 * 1000;
const BAD_TOKEN = 'The security token included in the request is invalid.';

function amzDate(v: string | undefined): Date | undefined {
  const m = v === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

const sameSecret = (a: string, b: string): boolean => {
  const x = createHash('sha256').update(a).digest(), y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
};

export async function authenticate(req: IncomingMessage, body: Buffer, cfg: SigV4Config, now: number): Promise<Identity> {
  const auth = header(req, 'authorization');
  const m = auth === undefined ? null : AUTH.exec(auth);
  if (cfg.allowUnsigned) {
    const akid = m?.[1] ?? 'anonymous';
    const account = cfg.keys.get(akid)?.account ?? (/^\d{12}$/.test(akid) ? akid : cfg.account);
    return { accessKeyId: akid, account, region: m?.[3] ?? cfg.defaultRegion };
  }
  if (auth === undefined) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (m === null) throw new AwsError('IncompleteSignatureException', 'Authorization header requires a SigV4 Credential, SignedHeaders and Signature.');
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (service !== cfg.service) throw new AwsError('InvalidSignatureException', `Credential should be scoped to correct service: '${cfg.service}'. `);
  if (!cfg.regions.has(region)) throw new AwsError('InvalidSignatureException', `Credential should be scoped to a valid region. '${region}' is not a Region this endpoint serves.`);
  const key = cfg.keys.get(accessKeyId);
  if (key === undefined) throw new AwsError('UnrecognizedClientException', BAD_TOKEN);
  const xAmzDate = header(req, 'x-amz-date');
  const date = amzDate(xAmzDate);
  if (date === undefined) throw new AwsError('IncompleteSignatureException', 'Authorization requires an X-Amz-Date header.');
  if (scopeDate !== xAmzDate!.slice(0, 8)) {
    throw new AwsError('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${xAmzDate!.slice(0, 8)}', from '${xAmzDate}'.`);
  }
  if (Math.abs(now - date.getTime()) > MAX_SKEW_MS) throw new AwsError('InvalidSignatureException', `Signature expired: ${xAmzDate} is now earlier or later than 15 minutes from the server's time.`);
  const signed = signedList.split(';');
  if (!signed.includes('host')) throw new AwsError('IncompleteSignatureException', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const headers: Record<string, string> = {};
  for (const h of signed) {
    const v = header(req, h);
    if (v === undefined) throw new AwsError('IncompleteSignatureException', `Signed header ${h} is missing.`);
    headers[h] = v;
  }
  if (!cfg.host(headers.host!)) throw new AwsError('InvalidSignatureException', `The signed Host '${headers.host}' is not a name this endpoint answers to.`);

  const token = header(req, 'x-amz-security-token');
  if (key.sessionToken === undefined ? token !== undefined : token === undefined || !sameSecret(token, key.sessionToken)) throw new AwsError('UnrecognizedClientException', BAD_TOKEN);
  if (token !== undefined && !signed.includes('x-amz-security-token')) throw new AwsError('IncompleteSignatureException', "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");

  // The payload: what arrived is what was signed, or the request is refused.
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const claimed = header(req, 'x-amz-content-sha256');
  if (claimed !== undefined) {
    if (claimed === 'UNSIGNED-PAYLOAD' || claimed.startsWith('STREAMING-')) {
      throw new AwsError('InvalidSignatureException', `This endpoint needs a signed payload: x-amz-content-sha256 must be the SHA-256 of the body, not ${claimed}.`);
    }
    if (claimed !== bodyHash) throw new AwsError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const url = new URL(req.url ?? '/', 'http://x');
  // The canonical request hashes the body received (the signer does when the header is absent, and
  // the header equals that hash when present).
  const query: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
  const request = new HttpRequest({ method: req.method ?? 'POST', protocol: 'http:', hostname: headers.host!, path: url.pathname, query, headers, body });
  // applyChecksum off: the signer must not add an x-amz-content-sha256 header the client did not sign (botocore does not send one).
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey: key.secretAccessKey }, region, service, sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const again = await signer.sign(request, { signingDate: date, signableHeaders: new Set(signed) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(again.headers.authorization ?? again.headers.Authorization))?.[1] ?? '';
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    throw new AwsError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return { accessKeyId, account: key.account, region };
}
