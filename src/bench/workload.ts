// src/bench/workload.ts
//
// A workload: a weighted mix of operations on given key types and payload sizes, the backends to
// run it on, a concurrency sweep, and how long (or how many operations) each phase runs. From a
// JSON or YAML file, from flags, or both (flags win). Checked here, so a bad file is one clear error.

import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';

import { ALGORITHMS, type OperationName } from './operations.js';

export interface WorkloadOperation {
  readonly op: OperationName;
  readonly algorithm: string;
  /** Payload bytes (sign, verify, encrypt, decrypt, hmac, digest); default 64. */
  readonly size: number;
  /** Relative share of the mix; default 1. */
  readonly weight: number;
}

export interface Workload {
  readonly name: string;
  readonly operations: readonly WorkloadOperation[];
  /** 'client', 'module', 'node', 'kms' (the KMS endpoint through the AWS SDK), 'softhsm' (SoftHSMv2, set
   *  up for the run), or 'pkcs11:<path>' (any PKCS#11 library). A trailing '?' makes one optional: left
   *  out, with a note, where it is not installed. */
  readonly backends: readonly string[];
  readonly concurrency: readonly number[];
  /** Seconds per measured phase (ignored when `count` is set). */
  readonly duration: number;
  /** Operations per measured phase, instead of a duration. */
  readonly count?: number;
  /** Seconds of unrecorded warm-up before each phase. */
  readonly warmup: number;
  /** Each phase runs this many times, backends interleaved round by round; throughput is the best round's. */
  readonly rounds: number;
  /** For pkcs11:<path> backends: the PIN, and the slot (index in the slot list, or id=N). */
  readonly pin?: string;
  readonly slot?: string;
  /** For the client backend: the profile of its in-memory token. */
  readonly profile: string;
  /** true: the operations run together as one weighted mix; false: each is measured on its own. */
  readonly mix: boolean;
}

export class WorkloadError extends Error {}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/;
export function seconds(v: unknown, what: string): number {
  if (typeof v === 'number' && v >= 0) return v;
  const m = typeof v === 'string' ? DURATION.exec(v.trim()) : null;
  if (m === null) throw new WorkloadError(`${what} is a duration like 2, '500ms', '2s' or '1m'`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 } as Record<string, number>)[m[2] ?? 's']!;
}

function positiveInt(v: unknown, what: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new WorkloadError(`${what} is a whole number ≥ 1`);
  return n;
}

/** `sign:ecdsa-p256:64:3` (op:algorithm[:size[:weight]]) or an object. */
export function operation(v: unknown): WorkloadOperation {
  const o = typeof v === 'string' ? (([op, algorithm, size, weight]) => ({ op, algorithm, size, weight }))(v.split(':')) : v;
  if (o === null || typeof o !== 'object') throw new WorkloadError(`an operation is "op:algorithm[:size[:weight]]" or { op, algorithm, size, weight }`);
  const { op, algorithm, size = 64, weight = 1 } = o as Record<string, unknown>;
  const spec = ALGORITHMS[String(algorithm)];
  if (spec === undefined) throw new WorkloadError(`unknown algorithm '${String(algorithm)}' (${Object.keys(ALGORITHMS).join(', ')})`);
  if (!spec.operations.includes(op as OperationName)) throw new WorkloadError(`${String(algorithm)} does not ${String(op)} (it does ${spec.operations.join(', ')})`);
  const bytes = typeof size === 'string' ? Number(size) : size;
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0 || bytes > 64 * 1024 * 1024) throw new WorkloadError('size is 0..64 MiB, in bytes');
  const w = typeof weight === 'string' ? Number(weight) : weight;
  if (typeof w !== 'number' || !(w > 0)) throw new WorkloadError('weight is a positive number');
  return { op: op as OperationName, algorithm: String(algorithm), size: bytes, weight: w };
}

const DEFAULTS = { name: 'workload', backends: ['client', 'node'], concurrency: [1, 4, 16], duration: 2, warmup: 0.5, rounds: 1, profile: 'pkcs11', mix: true };

/** A workload from a parsed document and flag overrides. */
export function workload(doc: Record<string, unknown>, flags: Record<string, unknown> = {}): Workload {
  const v = { ...DEFAULTS, ...doc, ...Object.fromEntries(Object.entries(flags).filter(([, x]) => x !== undefined)) } as Record<string, unknown>;
  const ops = v.operations;
  if (!Array.isArray(ops) || ops.length === 0) throw new WorkloadError('a workload needs operations (e.g. sign:ecdsa-p256)');
  const backends = (typeof v.backends === 'string' ? v.backends.split(',') : v.backends) as unknown;
  if (!Array.isArray(backends) || backends.length === 0) throw new WorkloadError('backends is a list: client, module, node, kms, softhsm, pkcs11:<path>');
  for (const b of backends) {
    const name = typeof b === 'string' ? b.replace(/\?$/, '') : b;
    if (typeof name !== 'string' || !(['client', 'module', 'node', 'kms', 'softhsm'].includes(name) || /^pkcs11:.+/.test(name))) {
      throw new WorkloadError(`unknown backend '${String(b)}' (client, module, node, kms, softhsm, pkcs11:<path>; a trailing ? makes one optional)`);
    }
  }
  const conc = (typeof v.concurrency === 'string' ? v.concurrency.split(',') : typeof v.concurrency === 'number' ? [v.concurrency] : v.concurrency) as unknown;
  if (!Array.isArray(conc) || conc.length === 0) throw new WorkloadError('concurrency is a number or a list like 1,4,16');
  return {
    name: String(v.name), operations: ops.map(operation), backends: backends as string[],
    concurrency: conc.map((c) => positiveInt(c, 'concurrency')),
    duration: seconds(v.duration, 'duration'), warmup: seconds(v.warmup, 'warmup'), rounds: positiveInt(v.rounds, 'rounds'),
    ...(v.count !== undefined && { count: positiveInt(v.count, 'count') }),
    ...(v.pin !== undefined && { pin: String(v.pin) }), ...(v.slot !== undefined && { slot: String(v.slot) }),
    profile: String(v.profile), mix: v.mix === true || v.mix === 'true',
  };
}

/** Reads a workload file: YAML (which includes JSON). */
export function readWorkload(path: string, flags: Record<string, unknown> = {}): Workload {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new WorkloadError(`${path}: ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new WorkloadError(`${path}: a workload is a mapping (name, operations, backends, ...)`);
  return workload(doc as Record<string, unknown>, flags);
}
