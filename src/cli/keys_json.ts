// src/cli/keys_json.ts
//
// Keys as cloudhsm-cli prints them ("key-reference", "key-info", "attributes" with hyphenated
// attribute names), the `name=value` attribute lists its flags take, and key selection by filter
// (exactly one key, or a clear error naming the filter).

import type { KeyAttributes, SettableAttributes } from '../client/attributes.js';
import type { SealHsm } from '../client/hsm.js';
import type { KeyHandle } from '../client/key_handle.js';
import { parseCliFilter } from '../client/keys.js';
import { CliError, EXIT } from './runtime.js';

const hex = (b: Uint8Array): string => (b.length ? `0x${Buffer.from(b).toString('hex')}` : '');

/** A key as `key list --verbose` and the generate commands print it. */
export async function keyJson(k: KeyHandle, verbose = true): Promise<Record<string, unknown>> {
  const info = await k.info();
  if (!verbose) return { 'key-reference': k.keyReference, attributes: { label: info.label } };
  const a = info.attributes;
  return {
    'key-reference': k.keyReference,
    'key-info': {
      'key-owners': [{ username: info.owner, 'key-coverage': 'full' }],
      'shared-users': info.sharedWith.map((username) => ({ username, 'key-coverage': 'full' })),
      'cluster-coverage': 'full',
    },
    attributes: {
      'key-type': info.type, label: info.label, id: hex(info.id), class: info.class,
      ...(info.curve !== undefined && { curve: info.curve }),
      ...(info.type === 'rsa' ? { 'modulus-size-bits': info.bits } : info.class === 'secret-key' ? { 'key-length-bytes': info.bits / 8 } : {}),
      token: info.token, local: a.local, sensitive: a.sensitive, extractable: a.extractable, 'always-sensitive': a.alwaysSensitive,
      'never-extractable': a.neverExtractable, encrypt: a.encrypt, decrypt: a.decrypt, sign: a.sign, verify: a.verify, wrap: a.wrap,
      unwrap: a.unwrap, derive: a.derive, modifiable: a.modifiable, trusted: a.trusted, 'wrap-with-trusted': a.wrapWithTrusted,
    },
  };
}

const BOOL_NAMES: Record<string, keyof KeyAttributes | 'trusted'> = {
  token: 'token', extractable: 'extractable', sensitive: 'sensitive', encrypt: 'encrypt', decrypt: 'decrypt', sign: 'sign', verify: 'verify',
  wrap: 'wrap', unwrap: 'unwrap', derive: 'derive', modifiable: 'modifiable', 'wrap-with-trusted': 'wrapWithTrusted', trusted: 'trusted',
};

/** One attribute by cloudhsm-cli name and text value (`label`, `id` as 0x-hex, booleans as true/false). */
export function attribute(name: string, value: string): Partial<SettableAttributes & KeyAttributes> {
  if (name === 'label') return { label: value };
  if (name === 'id') {
    const h = value.replace(/^0x/i, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new CliError('SEALHSM_USAGE', 'id is hex (0x...)', EXIT.usage);
    return { id: Buffer.from(h, 'hex') };
  }
  const key = BOOL_NAMES[name];
  if (key === undefined) throw new CliError('SEALHSM_USAGE', `unknown attribute '${name}' (label, id, ${Object.keys(BOOL_NAMES).join(', ')})`, EXIT.usage);
  if (value !== 'true' && value !== 'false') throw new CliError('SEALHSM_USAGE', `${name} is true or false`, EXIT.usage);
  return { [key]: value === 'true' };
}

/** `--attributes name=value ...` → attributes. */
export function parseAttributes(list: readonly string[] | undefined): KeyAttributes {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq < 1) throw new CliError('SEALHSM_USAGE', `attribute '${item}' must be name=value`, EXIT.usage);
    Object.assign(out, attribute(item.slice(0, eq), item.slice(eq + 1)));
  }
  return out as KeyAttributes;
}

/** The keys a filter matches (cloudhsm-cli's filter words: attr.label=..., key-reference=0x...). */
export async function keysMatching(hsm: SealHsm, filter: readonly string[] | undefined): Promise<KeyHandle[]> {
  try {
    return await hsm.keys.find(filter === undefined ? {} : parseCliFilter(filter));
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw new CliError('SEALHSM_USAGE', e.message, EXIT.usage);
    throw e;
  }
}

/** Exactly one key for a filter. */
export async function oneKey(hsm: SealHsm, filter: readonly string[] | undefined, what = 'key'): Promise<KeyHandle> {
  if (filter === undefined || filter.length === 0) throw new CliError('SEALHSM_USAGE', `select the ${what} with a filter (attr.label=... or key-reference=0x...)`, EXIT.usage);
  const keys = await keysMatching(hsm, filter);
  if (keys.length === 0) throw new CliError('CKR_KEY_HANDLE_INVALID', `no ${what} matches ${filter.join(' ')}`);
  if (keys.length > 1) throw new CliError('SEALHSM_AMBIGUOUS_FILTER', `${keys.length} keys match ${filter.join(' ')}; narrow the filter (e.g. attr.class=private-key)`);
  return keys[0]!;
}
