// src/kms/server.ts
//
// A KMS-compatible endpoint (the JSON 1.1 protocol, X-Amz-Target: TrentService.<Operation>) over
// node:http, its keys on the sealed token. Each request goes through the AWS request pipeline
// (src/aws: deadlines and connection caps, framing, SigV4 over the body received), then injected
// faults, the quota buckets (throttle.ts), the operation, and an audit record (audit.ts). Answers
// carry x-amzn-RequestId and Date; errors are KMS's JSON with HTTP 400 (500 for server faults); a
// KMS operation this endpoint lacks is UnsupportedOperationException, any other name
// UnknownOperationException, never a crash.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

import type { SealHsm } from '../client/hsm.js';
import { fromNative } from '../errors.js';
import { native } from '../native/binding.js';
import { AwsError as KmsError } from '../aws/errors.js';
import { handlerOf, jsonBody, listen, readBody, requireJsonContentType, targetOf, type JsonProtocol, type ListenOptions } from '../aws/pipeline.js';
import { AWS_REGIONS, parseRegions } from '../aws/regions.js';
import { authenticate, readCredentials, type AccessKey, type Identity, type SigV4Config } from '../aws/sigv4.js';
import { AuditLog, type AuditRecord } from './audit.js';
import { ALIAS_OPERATIONS } from './ops/aliases.js';
import { CRYPTO_OPERATIONS } from './ops/crypto.js';
import { KEY_OPERATIONS } from './ops/keys.js';
import { ROTATION_OPERATIONS } from './ops/rotation.js';
import { SIGNING_OPERATIONS } from './ops/signing.js';
import { housekeeping, type Caller, type Handler, type Service } from './service.js';
import { KEY_SPECS } from './specs.js';
import { KmsStore } from './store.js';
import { Throttle, bucketOf, newFaults, throttled, DEFAULT_QUOTAS, type Faults } from './throttle.js';

const OPERATIONS = new Map<string, Handler>(Object.entries({ ...KEY_OPERATIONS, ...ALIAS_OPERATIONS, ...CRYPTO_OPERATIONS, ...SIGNING_OPERATIONS, ...ROTATION_OPERATIONS }));
// Every operation of KMS's API (@aws-sdk/client-kms's commands); those not in OPERATIONS are
// UnsupportedOperationException here, any other target UnknownOperationException.
const KMS_API = [
  'CancelKeyDeletion', 'ConnectCustomKeyStore', 'CreateAlias', 'CreateCustomKeyStore', 'CreateGrant', 'CreateKey', 'Decapsulate', 'Decrypt', 'DeleteAlias',
  'DeleteCustomKeyStore', 'DeleteImportedKeyMaterial', 'DeriveSharedSecret', 'DescribeCustomKeyStores', 'DescribeKey', 'DisableKey', 'DisableKeyRotation',
  'DisconnectCustomKeyStore', 'EnableKey', 'EnableKeyRotation', 'Encapsulate', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'GenerateRandom', 'GetKeyLastUsage', 'GetKeyPolicy',
  'GetKeyRotationStatus', 'GetParametersForImport', 'GetPublicKey', 'ImportKeyMaterial', 'ListAliases', 'ListGrants', 'ListKeyPolicies', 'ListKeyRotations',
  'ListKeys', 'ListResourceTags', 'ListRetirableGrants', 'PutKeyPolicy', 'ReEncrypt', 'ReplicateKey', 'RetireGrant', 'RevokeGrant', 'RotateKeyOnDemand',
  'ScheduleKeyDeletion', 'Sign', 'TagResource', 'UntagResource', 'UpdateAlias', 'UpdateCustomKeyStore', 'UpdateKeyDescription', 'UpdatePrimaryRegion',
  'Verify', 'VerifyMac',
];
const PROTOCOL: JsonProtocol<Handler> = { targetPrefix: 'TrentService', operations: OPERATIONS, lacking: new Set(KMS_API.filter((op) => !OPERATIONS.has(op))) };
const READ_ONLY = new Set(['DescribeKey', 'ListKeys', 'ListAliases', 'ListResourceTags', 'GetPublicKey', 'GetKeyRotationStatus', 'ListKeyRotations']);
const CHANGES = new Set(['CreateKey', 'EnableKey', 'DisableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'UpdateKeyDescription', 'TagResource', 'UntagResource',
  'CreateAlias', 'UpdateAlias', 'DeleteAlias', 'EnableKeyRotation', 'DisableKeyRotation', 'RotateKeyOnDemand']);
// Request members that are secret or bulk, never written to the audit log.
const NOT_AUDITED = new Set(['Plaintext', 'Message', 'Signature', 'Mac', 'CiphertextBlob', 'GrantTokens']);
const MAX_BODY = 1024 * 1024;

export interface KmsServerOptions extends ListenOptions {
  /** A client logged in as the KMS crypto user (the token's `kmsuser`). */
  readonly hsm: SealHsm;
  /** The Region of unsigned requests (allowUnsigned); default the first of `regions`, or us-east-1. */
  readonly region?: string;
  /** The Regions served (each with its own keys); default every Region of AWS's commercial partition.
   *  A request signed for another Region is refused. */
  readonly regions?: readonly string[];
  /** The account of requests whose access key is not in the credentials (only with allowUnsigned). */
  readonly account?: string;
  /** Access keys that may call, or a credentials file (YAML/JSON). */
  readonly credentials?: readonly AccessKey[] | string;
  /** Accept requests unsigned or with signatures nobody checks. For throwaway tests only. */
  readonly allowUnsigned?: boolean;
  /** KMS's request quotas (default), other rates per bucket, or false for none. */
  readonly throttling?: boolean | Readonly<Record<string, number>>;
  /** The audit log file; default kms-audit.jsonl in the token directory given as `tokenDir`; false for none. */
  readonly auditLog?: string | false;
  readonly tokenDir?: string;
  /** Milliseconds since the epoch (tests move time to see rotation and deletion happen). */
  readonly clock?: () => number;
  /** Where the start-up warning goes (default stderr). */
  readonly warn?: (message: string) => void;
}

export interface KmsServer {
  readonly url: string;
  readonly port: number;
  /** Switch throttling, latency or an outage on and off while the server runs. */
  readonly faults: Faults;
  readonly auditLog: string | undefined;
  close(): Promise<void>;
}

export async function startKmsServer(options: KmsServerOptions): Promise<KmsServer> {
  const { hsm } = options;
  if (hsm.currentUser?.role !== 'crypto-user') throw new TypeError('startKmsServer needs a SealHsm with its KMS crypto user logged in');
  const keys = typeof options.credentials === 'string' ? readCredentials(options.credentials) : options.credentials ?? [];
  const regions = options.regions === undefined ? [...AWS_REGIONS] : parseRegions(options.regions, 'regions');
  const defaultRegion = options.region ?? (options.regions === undefined ? 'us-east-1' : regions[0]!);
  parseRegions([defaultRegion], 'region');
  if (!regions.includes(defaultRegion)) throw new TypeError(`region: ${defaultRegion} is not among the regions served (${regions.join(', ')})`);
  const allowUnsigned = options.allowUnsigned ?? false;
  if (!allowUnsigned && keys.length === 0) throw new TypeError('give credentials (access keys that may call), or allowUnsigned for a throwaway test endpoint');
  if (allowUnsigned) (options.warn ?? ((m: string) => process.stderr.write(`${m}\n`)))('WARNING: this KMS endpoint accepts unsigned requests and checks no signature: anyone who can reach it can use its keys. For throwaway tests only.');
  // One KMS server per token: its keys, aliases and audit chain are this process's state (a second
  // server would split them), so a second one is refused, naming the process that serves it.
  try {
    native.claimService(hsm.slot, 'kms');
  } catch (e) {
    throw fromNative(e);
  }
  let store: KmsStore | undefined;
  try {
    store = await KmsStore.open(hsm);
    return await serve(options, store, keys, regions, defaultRegion, allowUnsigned);
  } catch (e) {
    store?.close();
    native.releaseService(hsm.slot, 'kms');
    throw e;
  }
}

async function serve(options: KmsServerOptions, store: KmsStore, keys: readonly AccessKey[], regions: readonly string[], defaultRegion: string, allowUnsigned: boolean): Promise<KmsServer> {
  const { hsm } = options;
  const clock = options.clock ?? Date.now;
  const auditPath = options.auditLog === false ? undefined : options.auditLog ?? (options.tokenDir !== undefined ? join(options.tokenDir, 'kms-audit.jsonl') : undefined);
  const audit = auditPath === undefined ? undefined : await AuditLog.open(auditPath, store);
  const throttle = options.throttling === false ? undefined : new Throttle(options.throttling === true || options.throttling === undefined ? DEFAULT_QUOTAS : options.throttling);
  const faults = newFaults();
  let lock: Promise<unknown> = Promise.resolve();
  const svc: Service = {
    store, now: () => Math.floor(clock() / 1000),
    exclusive<T>(f: () => Promise<T>): Promise<T> {
      const run = lock.then(f);
      lock = run.catch(() => undefined);
      return run;
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, date: new Date(clock()).toUTCString() });
      res.end(JSON.stringify(body));
    };
    let identity: Identity | undefined;
    let op = '';
    let params: Record<string, unknown> = {};
    let keyArn: string | undefined;
    let error: KmsError | undefined;
    let response: Record<string, unknown> = {};
    try {
      const body = await readBody(req, MAX_BODY, listener.bodyTimeoutMs);
      op = targetOf(req, PROTOCOL);
      requireJsonContentType(req);
      identity = await authenticate(req, body, auth, clock());
      const handler = handlerOf(PROTOCOL, op);
      if (faults.outage) throw new KmsError('KMSInternalException', 'The service is unavailable (an injected outage).');
      if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
      if (faults.throttleNext > 0) {
        faults.throttleNext--;
        throw throttled();
      }
      if (faults.throttleRate > 0 && Math.random() < faults.throttleRate) throw throttled();
      params = jsonBody(body);
      await housekeeping(svc);
      const caller: Caller = { account: identity.account, region: identity.region, accessKeyId: identity.accessKeyId, sourceIp: req.socket.remoteAddress ?? '', userAgent: String(req.headers['user-agent'] ?? '') };
      if (throttle) {
        const keyId = typeof params.KeyId === 'string' ? params.KeyId : undefined;
        const rec = keyId === undefined ? undefined : [...store.keys.values()].find((k) => k.KeyId === keyId || k.Arn === keyId);
        throttle.take(caller.account, bucketOf(op, rec ? KEY_SPECS[rec.KeySpec]?.kind : undefined), clock());
      }
      const out = CHANGES.has(op) ? await svc.exclusive(() => handler(params, caller, svc)) : await handler(params, caller, svc);
      keyArn = out.keyArn;
      response = out.body;
    } catch (e) {
      if (!(e instanceof KmsError) && identity === undefined && req.socket.destroyed) return; // cut off before it was a request (a deadline, or the client left)
      error = e instanceof KmsError ? e : new KmsError('KMSInternalException', 'An internal error occurred.');
      if (!(e instanceof KmsError)) process.stderr.write(`sealhsm kms: ${op || 'request'} failed: ${(e as Error).stack ?? String(e)}\n`);
    }
    if (audit && identity) {
      const record: AuditRecord = {
        eventVersion: '1.08', eventTime: new Date(clock()).toISOString(), eventSource: 'kms.amazonaws.com', eventName: op, awsRegion: identity.region,
        sourceIPAddress: req.socket.remoteAddress ?? '', userAgent: String(req.headers['user-agent'] ?? ''),
        userIdentity: { type: 'IAMUser', accountId: identity.account, accessKeyId: identity.accessKeyId },
        requestParameters: Object.fromEntries(Object.entries(params).filter(([k]) => !NOT_AUDITED.has(k))),
        responseElements: null, ...(error && { errorCode: error.type, errorMessage: error.message }),
        requestID: requestId, eventID: randomUUID(), readOnly: READ_ONLY.has(op),
        ...(keyArn && { resources: [{ ARN: keyArn, accountId: identity.account, type: 'AWS::KMS::Key' as const }] }),
        eventType: 'AwsApiCall', managementEvent: true, eventCategory: 'Management',
      };
      // The record is written before the answer leaves: a caller never sees a result the log lacks.
      await audit.append(record).catch((e: unknown) => process.stderr.write(`sealhsm kms: the audit log could not be written: ${String(e)}\n`));
    }
    if (error) send(error.status, { __type: error.type, ...(error.message && { message: error.message }) });
    else send(200, response);
  };

  const listener = await listen(handle, options, (e) => process.stderr.write(`sealhsm kms: ${String(e)}\n`));
  // Set before the first request can be handled (requests are events after this continuation).
  const auth: SigV4Config = {
    keys: new Map(keys.map((k) => [k.accessKeyId, k])), allowUnsigned,
    account: options.account ?? '111122223333', defaultRegion, regions: new Set(regions), service: 'kms', host: listener.host,
  };
  return {
    url: listener.url, port: listener.port, faults, auditLog: auditPath,
    async close() {
      await listener.close();
      await audit?.checkpoint();
      store.close();
      native.releaseService(hsm.slot, 'kms');
    },
  };
}
