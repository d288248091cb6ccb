// test/helpers/der.ts
// A minimal DER reader for test inputs: splits an EC SubjectPublicKeyInfo into its curve OID and
// raw point so the point reaches the token untouched (the token must do the validation itself).

function tlv(buf: Uint8Array, at: number): { tag: number; start: number; end: number } | undefined {
  const tag = buf[at];
  let len = buf[at + 1];
  if (tag === undefined || len === undefined) return undefined;
  let start = at + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 2 || buf[start] === 0) return undefined; // DER: no leading zero byte
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | (buf[start + i] ?? 0);
    if (len < 0x80) return undefined; // DER: long form only when the short form cannot hold it
    start += n;
  }
  const end = start + len;
  return end <= buf.length ? { tag, start, end } : undefined;
}

const EC_PUBLIC_KEY = '06072a8648ce3d0201';

/** { curve: DER of the named-curve OID, point } or undefined when not a named-curve EC SPKI. */
export function splitEcSpki(spki: Uint8Array): { curve: Buffer; point: Buffer } | undefined {
  const outer = tlv(spki, 0);
  if (outer?.tag !== 0x30 || outer.end !== spki.length) return undefined;
  const alg = tlv(spki, outer.start);
  if (alg?.tag !== 0x30) return undefined;
  const oid = tlv(spki, alg.start);
  if (oid?.tag !== 0x06 || Buffer.from(spki.subarray(alg.start, oid.end)).toString('hex') !== EC_PUBLIC_KEY) return undefined;
  const params = tlv(spki, oid.end);
  if (params?.tag !== 0x06 || params.end !== alg.end) return undefined;
  const bits = tlv(spki, alg.end);
  if (bits?.tag !== 0x03 || bits.end !== outer.end || spki[bits.start] !== 0) return undefined;
  return { curve: Buffer.from(spki.subarray(oid.end, params.end)), point: Buffer.from(spki.subarray(bits.start + 1, bits.end)) };
}
