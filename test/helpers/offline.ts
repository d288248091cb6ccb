// test/helpers/offline.ts — what someone with token.db and one user's password can compute, from the
// token format's layout (docs/design/per-user-sealing.md) with node:crypto and the sqlite3 tool
// alone: no sealhsm code. The per-user sealing tests use it as the attacker.
import { createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, scryptSync } from 'node:crypto';

import { sql } from './store.js';

type Field = Buffer | string | number | bigint;

function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** The token's length-prefixed message encoding (statemac::Message). */
export function message(domain: string, ...fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of [Buffer.from(domain), ...fields]) {
    const b = typeof f === 'string' ? Buffer.from(f) : Buffer.isBuffer(f) ? f : u64(f);
    parts.push(u64(b.length), b);
  }
  return Buffer.concat(parts);
}

/** AES-256-GCM open of nonce || ciphertext || tag; null when it does not authenticate. */
export function gcmOpen(key: Buffer, aad: Buffer, blob: Buffer): Buffer | null {
  if (key.length !== 32 || blob.length < 28) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
    d.setAAD(aad);
    d.setAuthTag(blob.subarray(blob.length - 16));
    return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
  } catch {
    return null;
  }
}

const hkdf = (key: Buffer, salt: Buffer, info: Buffer | string): Buffer => Buffer.from(hkdfSync('sha256', key, salt, info, 32));
const hex = (dir: string, q: string): Buffer => Buffer.from(sql(dir, q), 'hex');
const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export const tokenId = (dir: string): Buffer => hex(dir, "SELECT hex(value) FROM meta WHERE key = 'token_id'");
const meta = (dir: string, key: string): string => sql(dir, `SELECT CAST(value AS TEXT) FROM meta WHERE key = ${quote(key)}`);

/** What one user's password opens: the token's state key, the user's UK and what it derives. */
export interface UserKeys {
  readonly name: string;
  readonly master: Buffer;
  readonly uk: Buffer;
  readonly seal: Buffer;
  readonly kxPrivate: Buffer;
  readonly kxPublic: Buffer;
}

export function openUser(dir: string, name: string, password: string): UserKeys | null {
  const [salt, n, r, p, role] = sql(dir, `SELECT hex(salt), n, r, p, role FROM users WHERE name = ${quote(name)}`).split('|');
  const wrap = hex(dir, `SELECT hex(keys_wrap) FROM users WHERE name = ${quote(name)}`);
  const N = Number(n), R = Number(r);
  const kek = scryptSync(password, Buffer.from(salt!, 'hex'), 64, { N, r: R, p: Number(p), maxmem: 256 * N * R + (1 << 20) }).subarray(32);
  const adminPublic = hex(dir, "SELECT hex(value) FROM meta WHERE key = 'admin_public'");
  const keys = gcmOpen(kek, message('sealhsm user keys v3', tokenId(dir), meta(dir, 'profile'), name, role!, adminPublic), wrap);
  if (keys === null) return null;
  const uk = keys.subarray(32, 64);
  const seal = hkdf(uk, Buffer.alloc(0), 'sealhsm user seal v3');
  const privates = gcmOpen(seal, message('sealhsm user privates v3', tokenId(dir), name), hex(dir, `SELECT hex(privates) FROM users WHERE name = ${quote(name)}`));
  if (privates === null) throw new Error(`${name}'s UK does not open its own private keys`);
  return { name, master: keys.subarray(0, 32), uk, seal, kxPrivate: privates.subarray(0, 32), kxPublic: hex(dir, `SELECT hex(kx_public) FROM users WHERE name = ${quote(name)}`) };
}

export interface Row {
  readonly handle: number;
  readonly cls: number;
  readonly keyType: number;
  readonly owner: string;
  readonly holder: string;
  readonly sealed: Buffer;
  readonly wraps: Map<string, Buffer>;
}

/** The row with key material (a secret or private key) labelled so. */
export function rowByLabel(dir: string, label: string): Row {
  const q = `SELECT handle, class, key_type, owner, holder, hex(sealed), hex(wraps) FROM objects WHERE label = CAST(${quote(label)} AS BLOB) AND class IN (3, 4)`;
  const [handle, cls, keyType, owner, holder, sealed, wraps] = sql(dir, q).split('|');
  if (handle === undefined || handle === '') throw new Error(`no row labelled ${label}`);
  const w = Buffer.from(wraps!, 'hex');
  const map = new Map<string, Buffer>();
  for (let at = 0; at < w.length;) {
    const nl = w.readUInt32BE(at);
    const name = w.subarray(at + 4, at + 4 + nl).toString();
    at += 4 + nl;
    const wl = w.readUInt32BE(at);
    map.set(name, w.subarray(at + 4, at + 4 + wl));
    at += 4 + wl;
  }
  return { handle: Number(handle), cls: Number(cls), keyType: Number(keyType), owner: owner!, holder: holder!, sealed: Buffer.from(sealed!, 'hex'), wraps: map };
}

function x25519(priv: Buffer, pub: Buffer, myPub: Buffer): Buffer {
  const b64 = (b: Buffer): string => b.toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64(priv), x: b64(myPub) }, format: 'jwk' });
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(pub) }, format: 'jwk' });
  return diffieHellman({ privateKey, publicKey });
}

/** Every way the keys given could open a row's material: the state key alone (as format 2 allowed),
 *  each user's holder wrap and each share. The material, or null when none opens it. */
export function tryOpenMaterial(dir: string, row: Row, keys: UserKeys[]): Buffer | null {
  const id = tokenId(dir);
  const payloadAad = message('sealhsm object material v3', id, row.handle, row.cls, row.keyType, row.holder, row.owner);
  for (const k of keys) {
    const candidates: Buffer[] = [k.master];
    for (const [name, wrap] of row.wraps) {
      candidates.push(...[k.seal, k.master, k.uk].map((key) => gcmOpen(key, message('sealhsm holder wrap v3', id, row.handle, name), wrap)).filter((b): b is Buffer => b !== null));
      if (wrap.length > 32) {
        const eph = wrap.subarray(0, 32);
        const aad = message('sealhsm share wrap v3', id, row.handle, name);
        const z = x25519(k.kxPrivate, eph, k.kxPublic);
        const shareKey = hkdf(z, Buffer.concat([eph, k.kxPublic]), message('sealhsm share v3', aad));
        const dek = gcmOpen(shareKey, aad, wrap.subarray(32));
        if (dek !== null) candidates.push(dek);
      }
    }
    for (const dek of candidates) {
      const material = gcmOpen(dek, payloadAad, row.sealed);
      if (material !== null) return material;
    }
  }
  return null;
}

/** The token layer's state key (HKDF of the state key every user's wrap holds). */
export const stateKey = (k: UserKeys): Buffer => hkdf(k.master, Buffer.alloc(0), 'sealhsm token state v2');

/** Rewrites an object row as someone holding the state key can: `edit` changes columns (SQL
 *  assignments), then the row's MAC and the token manifest are made valid again, so the token
 *  layer accepts it. With `remove`, the row is deleted and the manifest made to match. */
export function forgeRow(dir: string, k: UserKeys, handle: number, edit: string | { remove: true }): void {
  const key = stateKey(k);
  const id = tokenId(dir);
  const cols = 'handle, class, key_type, hex(label), hex(id), owner, shared, hex(attrs), hex(sealed), holder, sgen, hex(wraps), hex(sig), hex(tsig), gen, hex(mac)';
  const read = (): string[] => sql(dir, `SELECT ${cols} FROM objects WHERE handle = ${handle}`).split('|');
  const rowMac = (c: string[]): Buffer => {
    const b = (i: number): Buffer => Buffer.from(c[i]!, 'hex');
    const state = message('sealhsm object v3', id, BigInt(c[0]!), BigInt(c[1]!), BigInt(c[2]!), b(3), b(4), c[5]!, c[6]!, b(7), b(8), c[9]!,
      BigInt(c[10]!), b(11), b(12), b(13), BigInt(c[14]!));
    return createHmac('sha256', key).update(message('sealhsm object row v3', state)).digest();
  };
  const before = read();
  const oldMac = Buffer.from(before[15]!, 'hex');
  let newMac: Buffer | null = null;
  if (typeof edit === 'string') {
    sql(dir, `UPDATE objects SET ${edit} WHERE handle = ${handle}`);
    newMac = rowMac(read());
    sql(dir, `UPDATE objects SET mac = X'${newMac.toString('hex')}' WHERE handle = ${handle}`);
  } else {
    sql(dir, `DELETE FROM objects WHERE handle = ${handle}`);
  }
  const m = hex(dir, "SELECT hex(value) FROM meta WHERE key = 'manifest'");
  const gen = m.readBigUInt64BE(0);
  let rows = m.readBigUInt64BE(8);
  const digest = Buffer.from(m.subarray(16, 48));
  for (let i = 0; i < 32; i++) digest[i]! ^= oldMac[i]! ^ (newMac === null ? 0 : newMac[i]!);
  if (newMac === null) rows -= 1n;
  const mac = createHmac('sha256', key).update(message('sealhsm manifest v2', id, gen, rows, digest)).digest();
  const blob = Buffer.concat([u64(gen), u64(rows), digest, mac]);
  sql(dir, `UPDATE meta SET value = X'${blob.toString('hex')}' WHERE key = 'manifest'`);
}
