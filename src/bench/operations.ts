// src/bench/operations.ts
//
// What a workload can ask for: the operations, and the algorithms (key type, hash, mode) each
// applies to. The one table of the bench tool: every backend maps these same entries to its API, so a
// row means the same work on each.

export type OperationName = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'hmac' | 'digest' | 'wrap' | 'generate' | 'derive' | 'find';

export type BenchHash = 'SHA256' | 'SHA384' | 'SHA512';

export type BenchKey =
  | { readonly type: 'ec'; readonly curve: 'secp256r1' | 'secp384r1' }
  | { readonly type: 'ed25519' }
  | { readonly type: 'rsa'; readonly bits: 2048 | 3072 }
  | { readonly type: 'aes'; readonly bits: 128 | 256 }
  | { readonly type: 'generic-secret'; readonly bytes: number }
  | { readonly type: 'none' };

export interface AlgorithmSpec {
  readonly operations: readonly OperationName[];
  readonly key: BenchKey;
  readonly hash?: BenchHash;
  /** RSA padding, or AES mode. */
  readonly scheme?: 'pkcs1' | 'pss' | 'oaep' | 'gcm' | 'cbc' | 'kw';
}

export const ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = {
  'ecdsa-p256': { operations: ['sign', 'verify', 'generate'], key: { type: 'ec', curve: 'secp256r1' }, hash: 'SHA256' },
  'ecdsa-p384': { operations: ['sign', 'verify', 'generate'], key: { type: 'ec', curve: 'secp384r1' }, hash: 'SHA384' },
  ed25519: { operations: ['sign', 'verify', 'generate'], key: { type: 'ed25519' } },
  'rsa2048-pkcs1': { operations: ['sign', 'verify', 'generate'], key: { type: 'rsa', bits: 2048 }, hash: 'SHA256', scheme: 'pkcs1' },
  'rsa3072-pkcs1': { operations: ['sign', 'verify'], key: { type: 'rsa', bits: 3072 }, hash: 'SHA256', scheme: 'pkcs1' },
  'rsa2048-pss': { operations: ['sign', 'verify'], key: { type: 'rsa', bits: 2048 }, hash: 'SHA256', scheme: 'pss' },
  'rsa2048-oaep': { operations: ['encrypt', 'decrypt'], key: { type: 'rsa', bits: 2048 }, hash: 'SHA256', scheme: 'oaep' },
  'aes256-gcm': { operations: ['encrypt', 'decrypt', 'generate'], key: { type: 'aes', bits: 256 }, scheme: 'gcm' },
  'aes256-cbc': { operations: ['encrypt', 'decrypt'], key: { type: 'aes', bits: 256 }, scheme: 'cbc' },
  'aes256-kw': { operations: ['wrap'], key: { type: 'aes', bits: 256 }, scheme: 'kw' },
  'hmac-sha256': { operations: ['hmac', 'generate'], key: { type: 'generic-secret', bytes: 32 }, hash: 'SHA256' },
  'ecdh-p256': { operations: ['derive'], key: { type: 'ec', curve: 'secp256r1' } },
  'hkdf-sha256': { operations: ['derive'], key: { type: 'generic-secret', bytes: 32 }, hash: 'SHA256' },
  sha256: { operations: ['digest'], key: { type: 'none' }, hash: 'SHA256' },
  sha512: { operations: ['digest'], key: { type: 'none' }, hash: 'SHA512' },
  label: { operations: ['find'], key: { type: 'aes', bits: 128 } },
};

/** The row name of an operation: op:algorithm (with the payload size where it matters). */
export function operationLabel(op: OperationName, algorithm: string, size: number): string {
  const sized = op === 'sign' || op === 'verify' || op === 'encrypt' || op === 'decrypt' || op === 'hmac' || op === 'digest';
  return sized ? `${op}:${algorithm}:${size}` : `${op}:${algorithm}`;
}

/** An operation a backend cannot do (node:crypto has no key store to search): reported, not run. */
export class NotApplicable extends Error {}

/** One operation, prepared on a backend: each call does the work once. `worker` is the caller's
 *  index (a PKCS#11 backend gives each worker its own session). */
export type Prepared = (worker: number) => Promise<unknown>;

export interface Backend {
  readonly name: string;
  /** Keys and inputs made once, outside the measurement. */
  prepare(op: OperationName, algorithm: string, spec: AlgorithmSpec, size: number): Promise<Prepared>;
  /** The most workers it will be asked for. */
  setConcurrency?(n: number): Promise<void>;
  /** Untimed, after each phase: destroys the keys a generate phase made (node:crypto's are garbage,
   *  an HSM's stay until destroyed; kept, they would skew memory and slow later phases). */
  afterPhase?(): Promise<void>;
  close(): Promise<void>;
}
