// src/kms/ops/keys.ts
//
// Key lifecycle: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion,
// CancelKeyDeletion (→ Disabled, as KMS does), UpdateKeyDescription, and tags.

import { randomUUID } from 'node:crypto';

import { KmsError, validation } from '../errors.js';
import { KEY_SPECS, generate, type KeyUsage } from '../specs.js';
import { idBytes, materialLabel, type KeyRecord } from '../store.js';
import { int, keyArn, resolveKey, str, type Caller, type Handler, type Service } from '../service.js';

export function keyMetadata(rec: KeyRecord): Record<string, unknown> {
  const spec = KEY_SPECS[rec.KeySpec]!;
  return {
    AWSAccountId: rec.AWSAccountId, KeyId: rec.KeyId, Arn: rec.Arn, CreationDate: rec.CreationDate, Enabled: rec.KeyState === 'Enabled',
    Description: rec.Description, KeyUsage: rec.KeyUsage, KeyState: rec.KeyState, Origin: rec.Origin, KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: rec.KeySpec, KeySpec: rec.KeySpec, MultiRegion: false,
    ...(rec.DeletionDate !== undefined && { DeletionDate: rec.DeletionDate, PendingDeletionWindowInDays: rec.PendingDeletionWindowInDays }),
    ...(rec.KeyUsage === 'ENCRYPT_DECRYPT' && { EncryptionAlgorithms: spec.encryptionAlgorithms }),
    ...(rec.KeyUsage === 'SIGN_VERIFY' && { SigningAlgorithms: spec.signingAlgorithms }),
    ...(rec.KeyUsage === 'GENERATE_VERIFY_MAC' && { MacAlgorithms: spec.macAlgorithms }),
    ...(spec.kind === 'symmetric' && { CurrentKeyMaterialId: rec.materialIds[rec.materialIds.length - 1] }),
  };
}

function tags(v: unknown): Array<{ TagKey: string; TagValue: string }> {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new KmsError('TagException', 'Tags must be a list');
  return v.map((t: { TagKey?: unknown; TagValue?: unknown }) => {
    if (typeof t?.TagKey !== 'string' || typeof t?.TagValue !== 'string' || t.TagKey.length < 1 || t.TagKey.length > 128 || t.TagValue.length > 256) {
      throw new KmsError('TagException', 'Each tag needs a TagKey (1..128) and a TagValue (0..256)');
    }
    return { TagKey: t.TagKey, TagValue: t.TagValue };
  });
}

const CreateKey: Handler = async (req, c, svc) => {
  const spec = str(req, 'KeySpec', false) ?? str(req, 'CustomerMasterKeySpec', false) ?? 'SYMMETRIC_DEFAULT';
  const info = KEY_SPECS[spec];
  if (info === undefined) throw validation(`Value '${spec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [${Object.keys(KEY_SPECS).join(', ')}]`);
  const usage = (str(req, 'KeyUsage', false) ?? (info.usages.length === 1 ? info.usages[0] : 'ENCRYPT_DECRYPT')) as KeyUsage;
  if (!info.usages.includes(usage)) throw validation(`KeyUsage ${usage} is not compatible with KeySpec ${spec}`);
  const origin = str(req, 'Origin', false);
  if (origin !== undefined && origin !== 'AWS_KMS') throw new KmsError('UnsupportedOperationException', `Origin ${origin} is not supported here; keys are made in the HSM (AWS_KMS)`);
  const description = str(req, 'Description', false) ?? '';
  if (description.length > 8192) throw validation("Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192");
  const id = randomUUID();
  await generate(svc.store.hsm, info, usage, materialLabel(id, info.kind === 'symmetric' ? 1 : 0), idBytes(id));
  const rec: KeyRecord = {
    KeyId: id, Arn: keyArn(c, id), AWSAccountId: c.account, Region: c.region, CreationDate: svc.now(), Description: description,
    KeyUsage: usage, KeySpec: spec, KeyState: 'Enabled', Origin: 'AWS_KMS', Tags: tags(req.Tags),
    currentVersion: info.kind === 'symmetric' ? 1 : 0, materialIds: info.kind === 'symmetric' ? [randomUUID().replace(/-/g, '')] : [],
    rotation: { enabled: false, periodDays: 365, onDemand: 0, history: [] },
  };
  await svc.store.saveKey(rec);
  return { body: { KeyMetadata: keyMetadata(rec) }, keyArn: rec.Arn };
};

const DescribeKey: Handler = async (req, c, svc) => {
  const rec = await resolveKey(svc, c, str(req, 'KeyId')!);
  return { body: { KeyMetadata: keyMetadata(rec) }, keyArn: rec.Arn };
};

/** `Marker` is the index of the next item, opaque to callers. */
export function page<T>(items: readonly T[], req: Record<string, unknown>): { items: T[]; next?: string } {
  const limit = int(req, 'Limit', 1, 1000) ?? 100;
  const marker = str(req, 'Marker', false);
  const start = marker === undefined ? 0 : Number(Buffer.from(marker, 'base64url').toString());
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new KmsError('InvalidMarkerException', 'Invalid marker');
  const slice = items.slice(start, start + limit);
  return { items: slice, ...(start + limit < items.length && { next: Buffer.from(String(start + limit)).toString('base64url') }) };
}

const ListKeys: Handler = async (req, c, svc) => {
  const mine = [...svc.store.keys.values()].filter((k) => k.AWSAccountId === c.account && k.Region === c.region).sort((a, b) => a.CreationDate - b.CreationDate || (a.KeyId < b.KeyId ? -1 : 1));
  const { items, next } = page(mine, req);
  return { body: { Keys: items.map((k) => ({ KeyId: k.KeyId, KeyArn: k.Arn })), Truncated: next !== undefined, ...(next && { NextMarker: next }) } };
};

/** Management changes: refused while the key waits for deletion. */
async function manage(svc: Service, c: Caller, req: Record<string, unknown>, change: (rec: KeyRecord) => void): Promise<KeyRecord> {
  const rec = await resolveKey(svc, c, str(req, 'KeyId')!);
  if (rec.KeyState === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${rec.Arn} is pending deletion.`);
  change(rec);
  await svc.store.saveKey(rec);
  return rec;
}

const EnableKey: Handler = async (req, c, svc) => ({ body: {}, keyArn: (await manage(svc, c, req, (r) => { r.KeyState = 'Enabled'; })).Arn });
const DisableKey: Handler = async (req, c, svc) => ({ body: {}, keyArn: (await manage(svc, c, req, (r) => { r.KeyState = 'Disabled'; })).Arn });

const ScheduleKeyDeletion: Handler = async (req, c, svc) => {
  const days = int(req, 'PendingWindowInDays', 7, 30) ?? 30;
  const rec = await manage(svc, c, req, (r) => {
    r.KeyState = 'PendingDeletion';
    r.DeletionDate = svc.now() + days * 86400;
    r.PendingDeletionWindowInDays = days;
  });
  return { body: { KeyId: rec.Arn, DeletionDate: rec.DeletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: days }, keyArn: rec.Arn };
};

const CancelKeyDeletion: Handler = async (req, c, svc) => {
  const rec = await resolveKey(svc, c, str(req, 'KeyId')!);
  if (rec.KeyState !== 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${rec.Arn} is not pending deletion.`);
  rec.KeyState = 'Disabled';
  delete rec.DeletionDate;
  delete rec.PendingDeletionWindowInDays;
  await svc.store.saveKey(rec);
  return { body: { KeyId: rec.Arn }, keyArn: rec.Arn };
};

const UpdateKeyDescription: Handler = async (req, c, svc) => {
  const description = str(req, 'Description')!;
  return { body: {}, keyArn: (await manage(svc, c, req, (r) => { r.Description = description; })).Arn };
};

const TagResource: Handler = async (req, c, svc) => {
  const add = tags(req.Tags);
  const rec = await manage(svc, c, req, (r) => {
    for (const t of add) r.Tags = [...r.Tags.filter((x) => x.TagKey !== t.TagKey), t];
  });
  return { body: {}, keyArn: rec.Arn };
};

const UntagResource: Handler = async (req, c, svc) => {
  const keys = req.TagKeys;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) throw validation("Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
  const rec = await manage(svc, c, req, (r) => { r.Tags = r.Tags.filter((t) => !keys.includes(t.TagKey)); });
  return { body: {}, keyArn: rec.Arn };
};

const ListResourceTags: Handler = async (req, c, svc) => {
  const rec = await resolveKey(svc, c, str(req, 'KeyId')!);
  const { items, next } = page(rec.Tags, req);
  return { body: { Tags: items, Truncated: next !== undefined, ...(next && { NextMarker: next }) }, keyArn: rec.Arn };
};

export const KEY_OPERATIONS: Record<string, Handler> = {
  CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion, UpdateKeyDescription, TagResource, UntagResource, ListResourceTags,
};
