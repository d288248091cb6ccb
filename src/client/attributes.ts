// src/client/attributes.ts
// Key attribute options in CloudHSM CLI's words (label, id, token, extractable, ...) ⇄ PKCS#11
// templates, and the names the client uses for classes and key types.

import type { AttributeInput } from '../native/binding.js';
import { CKA, CKK, CKO } from '../native/pkcs11_gen.js';

/** Attributes a caller may set when a key is generated, imported, unwrapped or derived. */
export interface KeyAttributes {
  readonly label?: string;
  readonly id?: Uint8Array;
  /** Persist in the token (true) or live only as long as this client's session (false, the default). */
  readonly token?: boolean;
  readonly extractable?: boolean;
  readonly sensitive?: boolean;
  readonly encrypt?: boolean;
  readonly decrypt?: boolean;
  readonly sign?: boolean;
  readonly verify?: boolean;
  readonly wrap?: boolean;
  readonly unwrap?: boolean;
  readonly derive?: boolean;
  readonly modifiable?: boolean;
  readonly wrapWithTrusted?: boolean;
  /** Keys this one may wrap must match (CKA_WRAP_TEMPLATE). */
  readonly wrapTemplate?: KeyAttributes;
  /** Keys this one unwraps get these attributes (CKA_UNWRAP_TEMPLATE). */
  readonly unwrapTemplate?: KeyAttributes;
}

/** Attributes that may be changed later (CloudHSM `key set-attribute`). */
export type SettableAttributes = Pick<KeyAttributes, 'label' | 'id' | 'token' | 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'wrap' | 'unwrap' | 'derive' | 'sensitive' | 'modifiable' | 'wrapWithTrusted'> & {
  /** Admins only. */
  readonly trusted?: boolean;
};

const BOOLS = {
  token: CKA.TOKEN, extractable: CKA.EXTRACTABLE, sensitive: CKA.SENSITIVE, encrypt: CKA.ENCRYPT, decrypt: CKA.DECRYPT,
  sign: CKA.SIGN, verify: CKA.VERIFY, wrap: CKA.WRAP, unwrap: CKA.UNWRAP, derive: CKA.DERIVE, modifiable: CKA.MODIFIABLE,
  wrapWithTrusted: CKA.WRAP_WITH_TRUSTED, trusted: CKA.TRUSTED,
} as const;

type Entry = [number, AttributeInput];

/** The template for a set of attributes; `keep` limits it to the attributes a key class has. */
export function toTemplate(a: KeyAttributes & { trusted?: boolean }, keep?: readonly number[]): Entry[] {
  if (a === null || typeof a !== 'object') throw new TypeError('attributes must be an object');
  const out: Entry[] = [];
  if (a.label !== undefined) {
    if (typeof a.label !== 'string') throw new TypeError('label must be a string');
    out.push([CKA.LABEL, a.label]);
  }
  if (a.id !== undefined) {
    if (!(a.id instanceof Uint8Array)) throw new TypeError('id must be a Uint8Array');
    out.push([CKA.ID, a.id]);
  }
  for (const [name, type] of Object.entries(BOOLS)) {
    const v = (a as Record<string, unknown>)[name];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean`);
    out.push([type, v]);
  }
  if (a.wrapTemplate !== undefined) out.push([CKA.WRAP_TEMPLATE, toTemplate(a.wrapTemplate) as Array<[number, boolean | number | Uint8Array | string]>]);
  if (a.unwrapTemplate !== undefined) out.push([CKA.UNWRAP_TEMPLATE, toTemplate(a.unwrapTemplate) as Array<[number, boolean | number | Uint8Array | string]>]);
  return keep === undefined ? out : out.filter(([t]) => keep.includes(t) || t === CKA.LABEL || t === CKA.ID || t === CKA.TOKEN);
}

/** Attributes that belong to the public half of a pair; the rest go to the private half. */
export const PUBLIC_HALF: readonly number[] = [CKA.ENCRYPT, CKA.VERIFY, CKA.WRAP, CKA.MODIFIABLE, CKA.TRUSTED, CKA.WRAP_TEMPLATE];
export const PRIVATE_HALF: readonly number[] = [CKA.DECRYPT, CKA.SIGN, CKA.UNWRAP, CKA.DERIVE, CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.MODIFIABLE, CKA.WRAP_WITH_TRUSTED, CKA.UNWRAP_TEMPLATE];

export type KeyClass = 'public-key' | 'private-key' | 'secret-key';
export type KeyType = 'rsa' | 'ec' | 'ed25519' | 'aes' | 'generic-secret';

export const CLASS_NAMES: Record<number, KeyClass> = { [CKO.PUBLIC_KEY]: 'public-key', [CKO.PRIVATE_KEY]: 'private-key', [CKO.SECRET_KEY]: 'secret-key' };
export const TYPE_NAMES: Record<number, KeyType> = {
  [CKK.RSA]: 'rsa', [CKK.EC]: 'ec', [CKK.EC_EDWARDS]: 'ed25519', [CKK.AES]: 'aes', [CKK.GENERIC_SECRET]: 'generic-secret',
};
export const CLASS_VALUES: Record<KeyClass, number> = { 'public-key': CKO.PUBLIC_KEY, 'private-key': CKO.PRIVATE_KEY, 'secret-key': CKO.SECRET_KEY };
export const TYPE_VALUES: Record<KeyType, number> = { rsa: CKK.RSA, ec: CKK.EC, ed25519: CKK.EC_EDWARDS, aes: CKK.AES, 'generic-secret': CKK.GENERIC_SECRET };

export function readUlong(b: Buffer | null | undefined): number | undefined {
  return b == null || b.length !== 8 ? undefined : Number(b.readBigUInt64LE());
}
