// src/keys/ecdsa_sig.ts
// ECDSA signature encodings: PKCS#11 / IEEE P1363 (r || s, fixed width) ⇄ X9.62 DER
// (SEQUENCE { INTEGER r, INTEGER s }). The DER reader is strict: minimal lengths and integers,
// positive values, no trailing bytes — anything else is not a signature (returns undefined).

function readLength(der: Uint8Array, at: number): [len: number, next: number] | undefined {
  const b = der[at];
  if (b === undefined) return undefined;
  if (b < 0x80) return [b, at + 1];
  if (b === 0x81) {
    const l = der[at + 1];
    return l !== undefined && l >= 0x80 ? [l, at + 2] : undefined;
  }
  return undefined; // an ECDSA signature never needs more than 255 bytes of length
}

function readInteger(der: Uint8Array, at: number, width: number): [value: Uint8Array, next: number] | undefined {
  if (der[at] !== 0x02) return undefined;
  const l = readLength(der, at + 1);
  if (l === undefined || l[0] === 0) return undefined;
  const [len, start] = l;
  const body = der.subarray(start, start + len);
  if (body.length !== len) return undefined;
  if ((body[0] ?? 0) & 0x80) return undefined; // negative
  if (body[0] === 0 && len > 1 && ((body[1] ?? 0) & 0x80) === 0) return undefined; // non-minimal
  const magnitude = body[0] === 0 && len > 1 ? body.subarray(1) : body;
  if (magnitude.length > width) return undefined;
  const out = new Uint8Array(width);
  out.set(magnitude, width - magnitude.length);
  return [out, start + len];
}

/** DER → r||s with each half `width` bytes (the curve order length); undefined if not valid DER. */
export function derToP1363(der: Uint8Array, width: number): Uint8Array | undefined {
  if (der[0] !== 0x30) return undefined;
  const l = readLength(der, 1);
  if (l === undefined || l[1] + l[0] !== der.length) return undefined;
  const r = readInteger(der, l[1], width);
  if (r === undefined) return undefined;
  const s = readInteger(der, r[1], width);
  if (s === undefined || s[1] !== der.length) return undefined;
  const out = new Uint8Array(2 * width);
  out.set(r[0], 0);
  out.set(s[0], width);
  return out;
}

function integer(v: Uint8Array): number[] {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const mag = Array.from(v.subarray(i));
  if ((mag[0] ?? 0) & 0x80) mag.unshift(0);
  return [0x02, mag.length, ...mag];
}

/** r||s → DER. */
export function p1363ToDer(sig: Uint8Array): Uint8Array {
  if (sig.length % 2 !== 0) throw new RangeError('an r||s signature has an even length');
  const w = sig.length / 2;
  const body = [...integer(sig.subarray(0, w)), ...integer(sig.subarray(w))];
  const len = body.length < 128 ? [body.length] : [0x81, body.length];
  return Uint8Array.from([0x30, ...len, ...body]);
}
