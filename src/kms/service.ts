// src/kms/service.ts
//
// What every KMS operation handler shares: who is asking (account, region, access key), the clock,
// the store, key resolution (key id, key ARN, alias name or alias ARN; always answered with the key
// ARN), the key-state rules (Disabled → DisabledException, PendingDeletion → KMSInvalidStateException),
// and the lazy work KMS does on its own schedule (automatic rotation, deletion after the window).

import { randomUUID } from 'node:crypto';

import { KmsError, notFound, validation } from './errors.js';
import { KEY_SPECS, type KeySpecInfo, type KeyUsage } from './specs.js';
import { materialLabel, idBytes, type AliasRecord, type KeyRecord, type KmsStore } from './store.js';
import { generate } from './specs.js';

export interface Caller {
  readonly account: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly sourceIp: string;
  readonly userAgent: string;
}

export interface Service {
  readonly store: KmsStore;
  /** Seconds since the epoch (tests move it). */
  now(): number;
  /** Runs changes to the store one at a time. */
  exclusive<T>(f: () => Promise<T>): Promise<T>;
}

/** What a handler returns: the response, and the key it touched (for the audit record). */
export interface Outcome {
  readonly body: Record<string, unknown>;
  readonly keyArn?: string;
}

export type Handler = (req: Record<string, unknown>, caller: Caller, svc: Service) => Promise<Outcome>;

export const keyArn = (c: Caller, id: string): string => `arn:aws:kms:${c.region}:${c.account}:key/${id}`;
export const aliasArn = (c: Caller, name: string): string => `arn:aws:kms:${c.region}:${c.account}:${name}`;

export function str(req: Record<string, unknown>, name: string, required = true): string | undefined {
  const v = req[name];
  if (v === undefined || v === null) {
    if (required) throw validation(`Value null at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof v !== 'string') throw new KmsError('SerializationException', `${name} must be a string`);
  return v;
}

export function blob(req: Record<string, unknown>, name: string, max: number, required = true): Buffer | undefined {
  const v = str(req, name, required);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new KmsError('SerializationException', `${name} is not base64`);
  const b = Buffer.from(v, 'base64');
  const field = `${name[0]!.toLowerCase()}${name.slice(1)}`;
  if (b.length < 1) throw validation(`Value at '${field}' failed to satisfy constraint: Member must have length greater than or equal to 1`);
  if (b.length > max) throw validation(`Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  return b;
}

export function int(req: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = req[name];
  if (v === undefined || v === null) return undefined;
  const field = `${name[0]!.toLowerCase()}${name.slice(1)}`;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new KmsError('SerializationException', `${name} must be an integer`);
  if (v < min) throw validation(`Value '${v}' at '${field}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
  if (v > max) throw validation(`Value '${v}' at '${field}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  return v;
}

/** DryRun (the operations whose requests have it): a boolean, false when absent. */
export function dryRunOf(req: Record<string, unknown>): boolean {
  const v = req.DryRun;
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new KmsError('SerializationException', 'DryRun must be a boolean');
  return v;
}

/** Called where every check of a request has passed and its effect or answer would follow: with
 *  DryRun set, KMS answers DryRunOperationException instead, having done and returned nothing. */
export function stopIfDryRun(req: Record<string, unknown>, ...wipe: Buffer[]): void {
  if (!dryRunOf(req)) return;
  for (const b of wipe) b.fill(0);
  throw new KmsError('DryRunOperationException', 'The request was rejected because the DryRun parameter was specified.');
}

/** The key a KeyId input names, for this caller. */
export async function resolveKey(svc: Service, c: Caller, keyId: string): Promise<KeyRecord> {
  let id = keyId;
  const arn = /^arn:aws:kms:([^:]+):(\d{12}):(key\/|alias\/)(.+)$/.exec(keyId);
  if (arn) {
    if (arn[1] !== c.region || arn[2] !== c.account) throw notFound(`Invalid keyId ${keyId}`);
    id = arn[3] === 'key/' ? arn[4]! : `alias/${arn[4]}`;
  }
  if (id.startsWith('alias/')) {
    const alias = svc.store.aliases.get(`${c.account}/${c.region}/${id}`);
    if (alias === undefined) throw notFound(`Alias ${aliasArn(c, id)} is not found.`);
    id = alias.TargetKeyId;
  }
  const rec = svc.store.keys.get(id);
  if (rec === undefined || rec.AWSAccountId !== c.account || rec.Region !== c.region) {
    throw notFound(/^[0-9a-f-]{36}$/.test(id) ? `Key '${keyArn(c, id)}' does not exist` : `Invalid keyId ${keyId}`);
  }
  return rec;
}

/** Crypto operations need an Enabled key. */
export function usable(rec: KeyRecord): KeyRecord {
  if (rec.KeyState === 'Disabled') throw new KmsError('DisabledException', `${rec.Arn} is disabled.`);
  if (rec.KeyState === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${rec.Arn} is pending deletion.`);
  return rec;
}

export function specOf(rec: KeyRecord): KeySpecInfo {
  return KEY_SPECS[rec.KeySpec]!;
}

export function requireUsage(rec: KeyRecord, usage: KeyUsage, op: string): void {
  if (rec.KeyUsage !== usage) throw new KmsError('InvalidKeyUsageException', `${rec.Arn} key usage is ${rec.KeyUsage} which is not valid for ${op}.`);
}

/** KMS's own schedule, done as each request arrives (before it runs): keys past their deletion date
 *  go, with their aliases and material; keys due for automatic rotation get a new material version. */
export async function housekeeping(svc: Service): Promise<void> {
  const now = svc.now();
  const due = (rec: KeyRecord) => (rec.KeyState === 'PendingDeletion' && rec.DeletionDate !== undefined && rec.DeletionDate <= now)
    || (rec.rotation.enabled && rec.rotation.nextRotationDate !== undefined && rec.rotation.nextRotationDate <= now && rec.KeyState === 'Enabled');
  if (![...svc.store.keys.values()].some(due)) return;
  await svc.exclusive(() => catchUp(svc, now));
}

async function catchUp(svc: Service, now: number): Promise<void> {
  for (const rec of [...svc.store.keys.values()]) {
    if (rec.KeyState === 'PendingDeletion' && rec.DeletionDate !== undefined && rec.DeletionDate <= now) {
      await svc.store.purgeKey(rec);
      continue;
    }
    const r = rec.rotation;
    if (r.enabled && r.nextRotationDate !== undefined && r.nextRotationDate <= now && rec.KeyState === 'Enabled') {
      await rotate(svc, rec, 'AUTOMATIC');
      r.nextRotationDate = now + r.periodDays * 86400;
      await svc.store.saveKey(rec);
    }
  }
}

/** A new material version becomes current; the old ones stay and keep decrypting. */
export async function rotate(svc: Service, rec: KeyRecord, type: 'AUTOMATIC' | 'ON_DEMAND'): Promise<void> {
  const version = rec.currentVersion + 1;
  await generate(svc.store.hsm, specOf(rec), rec.KeyUsage, materialLabel(rec.KeyId, version), idBytes(rec.KeyId));
  const materialId = randomUUID().replace(/-/g, '');
  rec.currentVersion = version;
  rec.materialIds.push(materialId);
  rec.rotation.history.push({ KeyMaterialId: materialId, RotationDate: svc.now(), RotationType: type });
  await svc.store.saveKey(rec);
}

export function aliasesOf(svc: Service, c: Caller): AliasRecord[] {
  return [...svc.store.aliases.values()].filter((a) => a.AWSAccountId === c.account && a.Region === c.region);
}
