// src/kms/ops/rotation.ts
//
// EnableKeyRotation (RotationPeriodInDays 90..2560, default 365), DisableKeyRotation,
// GetKeyRotationStatus, RotateKeyOnDemand (at most 25 per key) and ListKeyRotations. Symmetric keys
// only; every material version stays on the token and keeps decrypting.

import { KmsError } from '../errors.js';
import { int, resolveKey, rotate, specOf, str, usable, type Caller, type Service } from '../service.js';
import type { Handler } from '../service.js';
import type { KeyRecord } from '../store.js';
import { page } from './keys.js';

async function rotatable(req: Record<string, unknown>, c: Caller, svc: Service): Promise<KeyRecord> {
  const rec = usable(await resolveKey(svc, c, str(req, 'KeyId')!));
  if (specOf(rec).kind !== 'symmetric') throw new KmsError('UnsupportedOperationException', `${rec.Arn} is not a symmetric encryption key; only those rotate.`);
  return rec;
}

const EnableKeyRotation: Handler = async (req, c, svc) => {
  const rec = await rotatable(req, c, svc);
  const days = int(req, 'RotationPeriodInDays', 90, 2560) ?? 365;
  rec.rotation.enabled = true;
  rec.rotation.periodDays = days;
  rec.rotation.nextRotationDate = svc.now() + days * 86400;
  await svc.store.saveKey(rec);
  return { body: {}, keyArn: rec.Arn };
};

const DisableKeyRotation: Handler = async (req, c, svc) => {
  const rec = await rotatable(req, c, svc);
  rec.rotation.enabled = false;
  delete rec.rotation.nextRotationDate;
  await svc.store.saveKey(rec);
  return { body: {}, keyArn: rec.Arn };
};

const GetKeyRotationStatus: Handler = async (req, c, svc) => {
  const rec = await resolveKey(svc, c, str(req, 'KeyId')!);
  const r = rec.rotation;
  const lastOnDemand = [...r.history].reverse().find((h) => h.RotationType === 'ON_DEMAND');
  return {
    body: {
      KeyId: rec.Arn, KeyRotationEnabled: r.enabled,
      ...(r.enabled && { RotationPeriodInDays: r.periodDays, NextRotationDate: r.nextRotationDate }),
      ...(lastOnDemand && { OnDemandRotationStartDate: lastOnDemand.RotationDate }),
    },
    keyArn: rec.Arn,
  };
};

const RotateKeyOnDemand: Handler = async (req, c, svc) => {
  const rec = await rotatable(req, c, svc);
  if (rec.rotation.onDemand >= 25) throw new KmsError('LimitExceededException', `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${rec.Arn}`);
  rec.rotation.onDemand++;
  await rotate(svc, rec, 'ON_DEMAND');
  return { body: { KeyId: rec.Arn }, keyArn: rec.Arn };
};

const ListKeyRotations: Handler = async (req, c, svc) => {
  const rec = await resolveKey(svc, c, str(req, 'KeyId')!);
  if (specOf(rec).kind !== 'symmetric') throw new KmsError('UnsupportedOperationException', `${rec.Arn} does not rotate.`);
  const { items, next } = page(rec.rotation.history, req);
  return { body: { Rotations: items.map((h) => ({ KeyId: rec.Arn, ...h })), Truncated: next !== undefined, ...(next && { NextMarker: next }) }, keyArn: rec.Arn };
};

export const ROTATION_OPERATIONS: Record<string, Handler> = { EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations };
