// src/kms/store.ts
//
// KMS keys and aliases on the sealed token. Key material is token keys of the KMS crypto user
// (AES-256 per material version, labelled `kms:<key id>:v<N>`; RSA and EC pairs and HMAC secrets
// labelled `kms:<key id>`), never extractable. What KMS knows about a key — state, usage, spec,
// rotation, tags — is a private data object (CKO_DATA, application "sealhsm-kms") holding JSON; the
// token signs it like every row, so an edited state is caught as a damaged token. One server
// process owns a token's KMS data at a time.

import type { SealHsm } from '../client/hsm.js';
import type { KeyHandle } from '../client/key_handle.js';
import { call } from '../errors.js';
import { native } from '../native/binding.js';
import { CKA, CKO } from '../native/pkcs11_gen.js';

export interface Tag { readonly TagKey: string; readonly TagValue: string }

export interface Rotation {
  readonly KeyMaterialId: string;
  readonly RotationDate: number;
  readonly RotationType: 'AUTOMATIC' | 'ON_DEMAND';
}

export interface KeyRecord {
  KeyId: string;
  Arn: string;
  AWSAccountId: string;
  Region: string;
  CreationDate: number;
  Description: string;
  KeyUsage: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC';
  KeySpec: string;
  KeyState: 'Enabled' | 'Disabled' | 'PendingDeletion';
  Origin: 'AWS_KMS';
  DeletionDate?: number;
  PendingDeletionWindowInDays?: number;
  Tags: Tag[];
  /** Symmetric keys: material versions 1..currentVersion, each an AES key on the token. */
  currentVersion: number;
  materialIds: string[];
  rotation: { enabled: boolean; periodDays: number; nextRotationDate?: number; onDemand: number; history: Rotation[] };
}

export interface AliasRecord {
  AliasName: string;
  AliasArn: string;
  TargetKeyId: string;
  AWSAccountId: string;
  Region: string;
  CreationDate: number;
  LastUpdatedDate: number;
}

const APP = Buffer.from('sealhsm-kms');

export class KmsStore {
  readonly keys = new Map<string, KeyRecord>();
  readonly aliases = new Map<string, AliasRecord>();
  readonly #hsm: SealHsm;
  readonly #session: number;
  readonly #objects = new Map<string, number>();
  readonly #material = new Map<string, KeyHandle>();
  readonly #docs = new Map<string, object>();
  readonly #revs = new Map<string, number>();

  private constructor(hsm: SealHsm, session: number) {
    this.#hsm = hsm;
    this.#session = session;
  }

  /** Opens the KMS data of a token whose crypto user is logged in. */
  static async open(hsm: SealHsm): Promise<KmsStore> {
    const store = new KmsStore(hsm, native.openSession(hsm.slot, true));
    const refs = await call(native.findObjects(store.#session, [[CKA.CLASS, CKO.DATA], [CKA.APPLICATION, APP]]));
    for (const ref of refs) {
      const [label, value] = await call(native.getAttributes(store.#session, ref, [CKA.LABEL, CKA.VALUE]));
      const name = label?.value?.toString('utf8') ?? '';
      const { rev, doc } = JSON.parse(value?.value?.toString('utf8') ?? '{}') as { rev: number; doc: KeyRecord & AliasRecord };
      const seen = store.#revs.get(name);
      if (seen !== undefined && seen >= rev) {
        await call(native.destroyObject(store.#session, ref)); // an older revision a crash left behind
        continue;
      }
      if (seen !== undefined) await call(native.destroyObject(store.#session, store.#objects.get(name)!));
      store.#revs.set(name, rev);
      store.#objects.set(name, ref);
      if (name.startsWith('key:')) store.keys.set(doc.KeyId, doc);
      else if (name.startsWith('alias:')) store.aliases.set(name.slice(6), doc);
      else if (name.startsWith('doc:')) store.#docs.set(name.slice(4), doc);
    }
    return store;
  }

  get hsm(): SealHsm {
    return this.#hsm;
  }

  /** A document of the endpoint's own (the audit checkpoint). */
  doc<T>(name: string): T | undefined {
    return this.#docs.get(name) as T | undefined;
  }

  async saveDoc(name: string, doc: object): Promise<void> {
    this.#docs.set(name, doc);
    await this.#put(`doc:${name}`, doc);
  }

  async saveKey(rec: KeyRecord): Promise<void> {
    this.keys.set(rec.KeyId, rec);
    await this.#put(`key:${rec.KeyId}`, rec);
  }

  async saveAlias(rec: AliasRecord): Promise<void> {
    this.aliases.set(`${rec.AWSAccountId}/${rec.Region}/${rec.AliasName}`, rec);
    await this.#put(`alias:${rec.AWSAccountId}/${rec.Region}/${rec.AliasName}`, rec);
  }

  async deleteAlias(rec: AliasRecord): Promise<void> {
    const name = `${rec.AWSAccountId}/${rec.Region}/${rec.AliasName}`;
    this.aliases.delete(name);
    await this.#remove(`alias:${name}`);
  }

  /** Removes a key for good: its material, its aliases and its record. */
  async purgeKey(rec: KeyRecord): Promise<void> {
    for (const k of await this.#hsm.keys.find({ id: idBytes(rec.KeyId) })) await k.delete();
    for (const k of [...this.#material.keys()].filter((x) => x.startsWith(rec.KeyId))) this.#material.delete(k);
    for (const a of [...this.aliases.values()].filter((x) => x.TargetKeyId === rec.KeyId)) await this.deleteAlias(a);
    this.keys.delete(rec.KeyId);
    await this.#remove(`key:${rec.KeyId}`);
  }

  /** The token key holding one material version (symmetric) or the key (others; version 0). */
  async material(rec: KeyRecord, version: number, cls: 'secret-key' | 'private-key' | 'public-key' = 'secret-key'): Promise<KeyHandle> {
    const cacheKey = `${rec.KeyId}:${version}:${cls}`;
    const cached = this.#material.get(cacheKey);
    if (cached) return cached;
    const [k] = await this.#hsm.keys.find({ label: materialLabel(rec.KeyId, version), class: cls });
    if (k === undefined) throw new Error(`the token has no material ${materialLabel(rec.KeyId, version)}`);
    this.#material.set(cacheKey, k);
    return k;
  }

  // A data object's value is fixed at creation (CloudHSM's rule), so a change writes a new object with
  // the next revision and then removes the old one; open() keeps the newest if a crash left both.
  async #put(name: string, doc: object): Promise<void> {
    const rev = (this.#revs.get(name) ?? 0) + 1;
    const value = Buffer.from(JSON.stringify({ rev, doc }), 'utf8');
    const created = await call(native.createObject(this.#session, [
      [CKA.CLASS, CKO.DATA], [CKA.TOKEN, true], [CKA.PRIVATE, true], [CKA.APPLICATION, APP], [CKA.LABEL, name], [CKA.VALUE, value],
    ]));
    const old = this.#objects.get(name);
    this.#objects.set(name, created);
    this.#revs.set(name, rev);
    if (old !== undefined) await call(native.destroyObject(this.#session, old));
  }

  async #remove(name: string): Promise<void> {
    const ref = this.#objects.get(name);
    if (ref === undefined) return;
    this.#objects.delete(name);
    await call(native.destroyObject(this.#session, ref));
  }

  close(): void {
    try {
      native.closeSession(this.#session);
    } catch {
      // the token went first
    }
  }
}

export const materialLabel = (keyId: string, version: number): string => (version > 0 ? `kms:${keyId}:v${version}` : `kms:${keyId}`);
/** CKA_ID of every token object of one KMS key: its UUID's 16 bytes. */
export const idBytes = (keyId: string): Buffer => Buffer.from(keyId.replace(/-/g, ''), 'hex');
