// src/kms/auth.ts
//
// SigV4 on every request: the access key and region come from the Authorization header's credential
// scope, the access key maps to an account (a credentials file), and the signature is checked by
// signing the same request again with @smithy/signature-v4 (the SDK's own signer) and comparing in
// constant time. Failures get AWS's generic auth errors. `allowUnsigned` accepts any request, signed
// or not, and verifies nothing: for throwaway tests only (the server says so when it starts).

import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { parse as parseYaml } from 'yaml';

import { KmsError } from './errors.js';

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The 12-digit account this access key acts for. */
  readonly account: string;
}

export interface AuthConfig {
  readonly keys: ReadonlyMap<string, AccessKey>;
  readonly allowUnsigned: boolean;
  readonly account: string;
  readonly region: string;
}

export interface Identity {
  readonly accessKeyId: string;
  readonly account: string;
  readonly region: string;
}

/** A credentials file: YAML or JSON, `accessKeys: [{ accessKeyId, secretAccessKey, account }]`. */
export function readCredentials(path: string): AccessKey[] {
  const doc = parseYaml(readFileSync(path, 'utf8')) as { accessKeys?: unknown } | null;
  const list = doc?.accessKeys;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${path}: expected accessKeys: [{ accessKeyId, secretAccessKey, account }]`);
  return list.map((k: Partial<AccessKey>, i) => {
    if (typeof k.accessKeyId !== 'string' || typeof k.secretAccessKey !== 'string' || typeof k.account !== 'string' || !/^\d{12}$/.test(k.account)) {
      throw new TypeError(`${path}: accessKeys[${i}] needs accessKeyId, secretAccessKey and a 12-digit account`);
    }
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, account: k.account };
  });
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60 * 1000;

function amzDate(v: string | undefined): Date | undefined {
  const m = v === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

export async function authenticate(req: IncomingMessage, body: string, cfg: AuthConfig, now: number): Promise<Identity> {
  const auth = header(req, 'authorization');
  const m = auth === undefined ? null : AUTH.exec(auth);
  if (cfg.allowUnsigned) {
    const akid = m?.[1] ?? 'anonymous';
    const account = cfg.keys.get(akid)?.account ?? (/^\d{12}$/.test(akid) ? akid : cfg.account);
    return { accessKeyId: akid, account, region: m?.[3] ?? cfg.region };
  }
  if (auth === undefined) throw new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (m === null) throw new KmsError('IncompleteSignatureException', 'Authorization header requires a SigV4 Credential, SignedHeaders and Signature.');
  const [, accessKeyId, , region, service, signedList, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (service !== 'kms') throw new KmsError('InvalidSignatureException', `Credential should be scoped to correct service: 'kms'.`);
  const key = cfg.keys.get(accessKeyId);
  if (key === undefined) throw new KmsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const date = amzDate(header(req, 'x-amz-date'));
  if (date === undefined) throw new KmsError('IncompleteSignatureException', 'Authorization requires an X-Amz-Date header.');
  if (Math.abs(now - date.getTime()) > MAX_SKEW_MS) throw new KmsError('InvalidSignatureException', `Signature expired: ${header(req, 'x-amz-date')} is now earlier or later than 15 minutes from the server's time.`);
  const signed = signedList.split(';');
  const headers: Record<string, string> = {};
  for (const h of signed) {
    const v = header(req, h);
    if (v === undefined) throw new KmsError('IncompleteSignatureException', `Signed header ${h} is missing.`);
    headers[h] = v;
  }
  const url = new URL(req.url ?? '/', 'http://x');
  const request = new HttpRequest({ method: req.method ?? 'POST', protocol: 'http:', hostname: headers.host ?? 'localhost', path: url.pathname, headers, body });
  // applyChecksum off: the signer must not add an x-amz-content-sha256 header the client did not sign (botocore does not send one).
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey: key.secretAccessKey }, region, service: 'kms', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const again = await signer.sign(request, { signingDate: date, signableHeaders: new Set(signed) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(again.headers.authorization ?? again.headers.Authorization))?.[1] ?? '';
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    throw new KmsError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return { accessKeyId, account: key.account, region };
}
