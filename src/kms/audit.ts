// src/kms/audit.ts
//
// The audit trail: one CloudTrail-shaped JSON record per request (never a plaintext, data key,
// message or signature), appended to a file. Each record carries a chain: its sequence number, the
// previous record's MAC, and its own MAC, an HMAC-SHA256 made in the HSM with a token key only the
// KMS user holds, over the previous MAC and the record. Editing, dropping, reordering or inserting a
// record breaks the chain, and without the HSM key nobody can mend it. Cutting records off the end
// leaves a valid chain, so the latest position is also kept in the token (signed there) every 100
// records and when the server stops; `verify` compares against it.

import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';

import type { KeyHandle } from '../client/key_handle.js';
import type { KmsStore } from './store.js';

const KEY_LABEL = 'kms:audit';
const CHECKPOINT = 'audit-checkpoint';
const GENESIS = '0'.repeat(64);

export interface AuditRecord {
  readonly eventVersion: '1.08';
  readonly eventTime: string;
  readonly eventSource: 'kms.amazonaws.com';
  readonly eventName: string;
  readonly awsRegion: string;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
  readonly userIdentity: { readonly type: 'IAMUser'; readonly accountId: string; readonly accessKeyId: string };
  readonly requestParameters: Record<string, unknown> | null;
  readonly responseElements: Record<string, unknown> | null;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestID: string;
  readonly eventID: string;
  readonly readOnly: boolean;
  readonly resources?: ReadonlyArray<{ ARN: string; accountId: string; type: 'AWS::KMS::Key' }>;
  readonly eventType: 'AwsApiCall';
  readonly managementEvent: boolean;
  readonly eventCategory: 'Management';
}

interface Chain { seq: number; prev: string; mac: string }

async function macKey(store: KmsStore): Promise<KeyHandle> {
  const [k] = await store.hsm.keys.find({ label: KEY_LABEL, class: 'secret-key' });
  return k ?? store.hsm.keys.generateGenericSecret({ length: 32, token: true, label: KEY_LABEL, extractable: false, sensitive: true, sign: true, verify: true });
}

const bytes = (prev: string, record: object): Buffer => Buffer.concat([Buffer.from(prev, 'hex'), Buffer.from(JSON.stringify(record), 'utf8')]);

export class AuditLog {
  readonly path: string;
  readonly #store: KmsStore;
  readonly #key: KeyHandle;
  #last: Chain;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, store: KmsStore, key: KeyHandle, last: Chain) {
    this.path = path;
    this.#store = store;
    this.#key = key;
    this.#last = last;
  }

  /** Opens (or starts) the log at `path`; the chain goes on from its last record. */
  static async open(path: string, store: KmsStore): Promise<AuditLog> {
    const key = await macKey(store);
    let last: Chain = { seq: 0, prev: GENESIS, mac: GENESIS };
    try {
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n').filter(Boolean);
      const tail = lines.length ? (JSON.parse(lines[lines.length - 1]!) as { chain: Chain }).chain : undefined;
      if (tail) last = tail;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return new AuditLog(path, store, key, last);
  }

  /** Appends a record; records are chained in the order they are appended. */
  append(record: AuditRecord): Promise<void> {
    const next = this.#queue.then(async () => {
      const prev = this.#last.mac;
      const mac = (await this.#key.sign(bytes(prev, record), 'SHA256_HMAC')).toString('hex');
      const chain = { seq: this.#last.seq + 1, prev, mac };
      await appendFile(this.path, `${JSON.stringify({ ...record, chain })}\n`);
      this.#last = chain;
      if (chain.seq % 100 === 0) await this.#saveCheckpoint();
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Records the last position in the token. */
  async checkpoint(): Promise<void> {
    await this.#queue;
    await this.#saveCheckpoint();
  }

  #saveCheckpoint(): Promise<void> {
    return this.#store.saveDoc(CHECKPOINT, { seq: this.#last.seq, mac: this.#last.mac });
  }

  /** Checks a log against the HSM key and the token's checkpoint. */
  static async verify(path: string, store: KmsStore): Promise<{ ok: boolean; records: number; problem?: string }> {
    const key = await macKey(store);
    const cp = store.doc<{ seq: number; mac: string }>(CHECKPOINT);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    let prev = GENESIS;
    let seq = 0;
    for (const [i, line] of lines.entries()) {
      let parsed: Record<string, unknown> & { chain?: Chain };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        return { ok: false, records: i, problem: `line ${i + 1} is not JSON` };
      }
      const { chain, ...record } = parsed;
      if (chain === undefined || chain.seq !== seq + 1 || chain.prev !== prev) return { ok: false, records: i, problem: `line ${i + 1}: the chain breaks (a record was removed, reordered or inserted before it)` };
      const good = await key.verify(bytes(prev, record), Buffer.from(chain.mac, 'hex'), 'SHA256_HMAC');
      if (!good) return { ok: false, records: i, problem: `line ${i + 1}: the record was changed` };
      if (cp && chain.seq === cp.seq && chain.mac !== cp.mac) return { ok: false, records: i, problem: `line ${i + 1} is not the record the token saw at that position` };
      prev = chain.mac;
      seq = chain.seq;
    }
    if (cp && (seq < cp.seq || (seq === cp.seq && prev !== cp.mac))) return { ok: false, records: seq, problem: `the log ends at record ${seq}, but the token saw it reach ${cp.seq}: records were cut off the end` };
    return { ok: true, records: seq };
  }
}
