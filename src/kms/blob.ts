// src/kms/blob.ts
//
// The symmetric ciphertext blob (KMS's format is opaque and ours to choose; spec/kms.md §2.9):
//
//   "SKMS" | format 1 | key id (16 bytes, the UUID) | material version (u32 BE) | IV (12) | AES-256-GCM ciphertext ‖ tag
//
// It names the key and the material that encrypted it, so Decrypt works without KeyId and rotated
// keys keep decrypting. The GCM AAD binds the header and the encryption context, encoded without
// ambiguity: a JSON array of [name, value] pairs sorted by name (so {"ab":"c"} and {"a":"bc"} differ,
// unlike the concatenations local-kms and LocalStack use, and order does not matter).

import { KmsError, invalidCiphertext } from './errors.js';

const MAGIC = Buffer.from('SKMS', 'ascii');
const FORMAT = 1;
export const HEADER_BYTES = MAGIC.length + 1 + 16 + 4;
export const MAX_BLOB = 6144;

export type EncryptionContext = Readonly<Record<string, string>>;

export interface BlobHeader {
  readonly keyId: string;
  readonly version: number;
}

export function checkContext(ctx: unknown): EncryptionContext {
  if (ctx === undefined || ctx === null) return {};
  if (typeof ctx !== 'object' || Array.isArray(ctx)) throw new KmsError('ValidationException', 'EncryptionContext must be a map of strings to strings');
  for (const [k, v] of Object.entries(ctx)) {
    if (typeof v !== 'string') throw new KmsError('ValidationException', `EncryptionContext value for '${k}' must be a string`);
  }
  return ctx as EncryptionContext;
}

export function contextBytes(ctx: EncryptionContext): Buffer {
  const pairs = Object.entries(ctx).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

function uuidBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

function uuidText(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function header(h: BlobHeader): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(h.version);
  return Buffer.concat([MAGIC, Buffer.from([FORMAT]), uuidBytes(h.keyId), v]);
}

/** The AAD of a blob: its header and the encryption context. */
export function aad(hdr: Buffer, ctx: EncryptionContext): Buffer {
  return Buffer.concat([hdr, contextBytes(ctx)]);
}

export function assemble(hdr: Buffer, iv: Uint8Array, sealed: Uint8Array): Buffer {
  return Buffer.concat([hdr, iv, sealed]);
}

/** Splits a blob; anything not ours is InvalidCiphertextException. */
export function parse(blob: Uint8Array): { header: BlobHeader; raw: Buffer; iv: Buffer; sealed: Buffer } {
  const b = Buffer.from(blob);
  if (b.length < HEADER_BYTES + 12 + 16 || !b.subarray(0, 4).equals(MAGIC) || b[4] !== FORMAT) throw invalidCiphertext();
  return {
    header: { keyId: uuidText(b.subarray(5, 21)), version: b.readUInt32BE(21) },
    raw: b.subarray(0, HEADER_BYTES),
    iv: b.subarray(HEADER_BYTES, HEADER_BYTES + 12),
    sealed: b.subarray(HEADER_BYTES + 12),
  };
}
