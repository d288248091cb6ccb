// src/kms/throttle.ts
//
// KMS's request quotas (spec/kms.md §2.6) as token buckets per account: the symmetric cryptographic
// operations share one (10,000/s), RSA and ECC operations share theirs (500/s, 300/s), and the
// management operations have their own. Over the quota: ThrottlingException (HTTP 400), which the
// SDK retries with back-off. Quotas are configurable; `false` turns them off. The fault switches
// make a test see throttling, latency and outages on demand.

import { KmsError } from './errors.js';

export const DEFAULT_QUOTAS: Readonly<Record<string, number>> = {
  symmetric: 10000, rsa: 500, ecc: 300,
  CreateKey: 5, CreateAlias: 5, CancelKeyDeletion: 5, DisableKey: 5, EnableKey: 5, EnableKeyRotation: 15, ScheduleKeyDeletion: 15,
  DescribeKey: 2000, GetPublicKey: 2000, ListKeys: 500, ListAliases: 500,
};

const CRYPTO = new Set(['Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'VerifyMac', 'GenerateRandom', 'Sign', 'Verify']);

/** The quota bucket of an operation; `kind` is the key's family for the cryptographic ones. */
export function bucketOf(op: string, kind: 'symmetric' | 'rsa' | 'ec' | 'hmac' | undefined): string {
  if (!CRYPTO.has(op)) return op;
  if (kind === 'rsa') return 'rsa';
  if (kind === 'ec') return 'ecc';
  return 'symmetric';
}

export class Throttle {
  readonly #quotas: Record<string, number>;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(quotas: Readonly<Record<string, number>> = DEFAULT_QUOTAS) {
    this.#quotas = { ...quotas };
  }

  /** Takes one request from the account's bucket, or throws ThrottlingException. */
  take(account: string, bucket: string, nowMs: number): void {
    const rate = this.#quotas[bucket];
    if (rate === undefined || rate <= 0) return;
    const k = `${account}/${bucket}`;
    const b = this.#buckets.get(k) ?? { tokens: rate, at: nowMs };
    b.tokens = Math.min(rate, b.tokens + ((nowMs - b.at) / 1000) * rate);
    b.at = nowMs;
    if (b.tokens < 1) {
      this.#buckets.set(k, b);
      throw throttled();
    }
    b.tokens -= 1;
    this.#buckets.set(k, b);
  }
}

export const throttled = (): KmsError => new KmsError('ThrottlingException', 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.');

/** What a test can switch on while the server runs. */
export interface Faults {
  /** Answer this many next requests with ThrottlingException. */
  throttleNext: number;
  /** Answer each request with ThrottlingException with this probability (0..1). */
  throttleRate: number;
  /** Delay every request by this many milliseconds. */
  latencyMs: number;
  /** Answer every request with KMSInternalException (HTTP 500): an outage. */
  outage: boolean;
}

export function newFaults(): Faults {
  return { throttleNext: 0, throttleRate: 0, latencyMs: 0, outage: false };
}
