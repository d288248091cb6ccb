// src/kms/ops/aliases.ts — CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

import { KmsError, notFound, validation } from '../errors.js';
import { aliasArn, aliasesOf, resolveKey, str, type Caller, type Handler, type Service } from '../service.js';
import type { KeyRecord } from '../store.js';
import { page } from './keys.js';

function aliasName(req: Record<string, unknown>): string {
  const name = str(req, 'AliasName')!;
  if (!/^alias\/[A-Za-z0-9/_-]{1,250}$/.test(name)) throw validation(`Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`);
  if (name.startsWith('alias/aws/')) throw new KmsError('NotAuthorizedException', 'Aliases beginning with alias/aws/ are reserved for AWS');
  return name;
}

/** The target of an alias: a key id or key ARN (not another alias), not pending deletion. */
async function target(svc: Service, c: Caller, req: Record<string, unknown>): Promise<KeyRecord> {
  const id = str(req, 'TargetKeyId')!;
  if (id.startsWith('alias/') || id.includes(':alias/')) throw validation('TargetKeyId must be a key ID or key ARN');
  const rec = await resolveKey(svc, c, id);
  if (rec.KeyState === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${rec.Arn} is pending deletion.`);
  return rec;
}

const CreateAlias: Handler = async (req, c, svc) => {
  const name = aliasName(req);
  const rec = await target(svc, c, req);
  if (svc.store.aliases.has(`${c.account}/${c.region}/${name}`)) throw new KmsError('AlreadyExistsException', `An alias with the name ${aliasArn(c, name)} already exists`);
  const now = svc.now();
  await svc.store.saveAlias({ AliasName: name, AliasArn: aliasArn(c, name), TargetKeyId: rec.KeyId, AWSAccountId: c.account, Region: c.region, CreationDate: now, LastUpdatedDate: now });
  return { body: {}, keyArn: rec.Arn };
};

const UpdateAlias: Handler = async (req, c, svc) => {
  const name = aliasName(req);
  const alias = svc.store.aliases.get(`${c.account}/${c.region}/${name}`);
  if (alias === undefined) throw notFound(`Alias ${aliasArn(c, name)} is not found.`);
  const rec = await target(svc, c, req);
  const old = svc.store.keys.get(alias.TargetKeyId);
  if (old && (old.KeyUsage !== rec.KeyUsage || old.KeySpec !== rec.KeySpec)) throw validation('An alias can only move to a key of the same key spec and key usage');
  await svc.store.saveAlias({ ...alias, TargetKeyId: rec.KeyId, LastUpdatedDate: svc.now() });
  return { body: {}, keyArn: rec.Arn };
};

const DeleteAlias: Handler = async (req, c, svc) => {
  const name = aliasName(req);
  const alias = svc.store.aliases.get(`${c.account}/${c.region}/${name}`);
  if (alias === undefined) throw notFound(`Alias ${aliasArn(c, name)} is not found.`);
  await svc.store.deleteAlias(alias);
  return { body: {}, ...(svc.store.keys.get(alias.TargetKeyId) && { keyArn: svc.store.keys.get(alias.TargetKeyId)!.Arn }) };
};

const ListAliases: Handler = async (req, c, svc) => {
  const keyId = str(req, 'KeyId', false);
  const key = keyId === undefined ? undefined : await resolveKey(svc, c, keyId);
  const all = aliasesOf(svc, c).filter((a) => key === undefined || a.TargetKeyId === key.KeyId).sort((a, b) => (a.AliasName < b.AliasName ? -1 : 1));
  const { items, next } = page(all, req);
  return {
    body: {
      Aliases: items.map((a) => ({ AliasName: a.AliasName, AliasArn: a.AliasArn, TargetKeyId: a.TargetKeyId, CreationDate: a.CreationDate, LastUpdatedDate: a.LastUpdatedDate })),
      Truncated: next !== undefined, ...(next && { NextMarker: next }),
    },
    ...(key && { keyArn: key.Arn }),
  };
};

export const ALIAS_OPERATIONS: Record<string, Handler> = { CreateAlias, UpdateAlias, DeleteAlias, ListAliases };
