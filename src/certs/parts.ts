// src/certs/parts.ts
//
// The pieces of X.509 the issuing helpers put together, as pkijs objects: distinguished names from
// a plain object, and the usual extensions (basic constraints, key usage, extended key usage,
// subject alternative names, key identifiers, CRL number and reason). Facts from RFC 5280 §4.2.

import { isIP } from 'node:net';

import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

import type { AltNames, CrlReason, KeyUsageName, NameInput } from './types.js';


const NAME_OIDS: Record<string, string> = {
  C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', serialNumber: '2.5.4.5',
  DC: '0.9.2342.19200300.100.1.25', emailAddress: '1.2.840.113549.1.9.1',
};

export function name(input: NameInput): pkijs.RelativeDistinguishedNames {
  if (input === null || typeof input !== 'object') throw new TypeError('a name is an object like { CN: "svc" } or a list of [type, value] pairs');
  const pairs = Array.isArray(input) ? (input as ReadonlyArray<readonly [string, string]>) : Object.entries(input as Record<string, string>);
  if (pairs.length === 0) throw new TypeError('a name needs at least one attribute');
  const rdns: asn1js.Set[] = [];
  for (const [type, value] of pairs) {
    const oid = NAME_OIDS[type] ?? (/^\d+(\.\d+)+$/.test(type) ? type : undefined);
    if (oid === undefined) throw new RangeError(`unknown name attribute '${type}' (${Object.keys(NAME_OIDS).join(', ')} or an OID)`);
    if (typeof value !== 'string' || value === '') throw new TypeError(`name attribute ${type} must be a non-empty string`);
    const v = type === 'C' ? new asn1js.PrintableString({ value }) : type === 'DC' || type === 'emailAddress' ? new asn1js.IA5String({ value }) : new asn1js.Utf8String({ value });
    rdns.push(new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type: oid, value: v }).toSchema()] }));
  }
  // One attribute per RDN, as everyone writes names (pkijs' own toSchema would make one multi-valued RDN).
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns }).toBER(false));
}

const ext = (extnID: string, critical: boolean, value: { toSchema(): asn1js.AsnType } | asn1js.AsnType): pkijs.Extension =>
  new pkijs.Extension({ extnID, critical, extnValue: ('toSchema' in value ? value.toSchema() : value).toBER(false) });

export function basicConstraints(ca: boolean, pathLength?: number): pkijs.Extension {
  return ext('2.5.29.19', true, new pkijs.BasicConstraints({ cA: ca, ...(ca && pathLength !== undefined && { pathLenConstraint: pathLength }) }));
}

// In the order of their bits (RFC 5280 §4.2.1.3).
const KEY_USAGES: readonly KeyUsageName[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'];

export function keyUsage(usages: readonly KeyUsageName[]): pkijs.Extension {
  let bits = 0;
  for (const u of usages) {
    const i = KEY_USAGES.indexOf(u);
    if (i < 0) throw new RangeError(`unknown key usage '${u}' (${KEY_USAGES.join(', ')})`);
    bits |= 0x80 >> i;
  }
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return ext('2.5.29.15', true, new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits: unused }));
}

const EKU_OIDS: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2', codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4', timeStamping: '1.3.6.1.5.5.7.3.8', OCSPSigning: '1.3.6.1.5.5.7.3.9',
};

export function extendedKeyUsage(purposes: readonly string[]): pkijs.Extension {
  const oids = purposes.map((p) => {
    const oid = EKU_OIDS[p] ?? (/^\d+(\.\d+)+$/.test(p) ? p : undefined);
    if (oid === undefined) throw new RangeError(`unknown extended key usage '${p}' (${Object.keys(EKU_OIDS).join(', ')} or an OID)`);
    return oid;
  });
  return ext('2.5.29.37', false, new pkijs.ExtKeyUsage({ keyPurposes: oids }));
}


function ipBytes(ip: string): Uint8Array {
  const v = isIP(ip);
  if (v === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (v !== 6) throw new RangeError(`'${ip}' is not an IP address`);
  const [head, tail = ''] = ip.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Uint8Array.from(groups.flatMap((g) => { const n = parseInt(g, 16); return [n >> 8, n & 0xff]; }));
}

export function altNames(names: AltNames): pkijs.AltName {
  const list: pkijs.GeneralName[] = [
    ...(names.email ?? []).map((value) => new pkijs.GeneralName({ type: 1, value })),
    ...(names.dns ?? []).map((value) => new pkijs.GeneralName({ type: 2, value })),
    ...(names.uri ?? []).map((value) => new pkijs.GeneralName({ type: 6, value })),
    ...(names.ip ?? []).map((ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(ip) }) })),
  ];
  if (list.length === 0) throw new TypeError('subjectAltNames lists no names');
  return new pkijs.AltName({ altNames: list });
}

export function subjectAltName(names: AltNames | pkijs.AltName): pkijs.Extension {
  return ext('2.5.29.17', false, names instanceof pkijs.AltName ? names : altNames(names));
}

export function subjectKeyIdentifier(id: Uint8Array): pkijs.Extension {
  return ext('2.5.29.14', false, new asn1js.OctetString({ valueHex: id }));
}

export function authorityKeyIdentifier(id: Uint8Array): pkijs.Extension {
  return ext('2.5.29.35', false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: id }) }));
}

export function crlNumber(n: number): pkijs.Extension {
  return ext('2.5.29.20', false, new asn1js.Integer({ value: n }));
}

const CRL_REASONS: Record<CrlReason, number> = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5,
  certificateHold: 6, removeFromCRL: 8, privilegeWithdrawn: 9, aACompromise: 10,
};

export function crlReason(reason: CrlReason): pkijs.Extension {
  const code = CRL_REASONS[reason];
  if (code === undefined) throw new RangeError(`unknown CRL reason '${reason}'`);
  return ext('2.5.29.21', false, new asn1js.Enumerated({ value: code }));
}

/** The subject key identifier a certificate carries, if any. */
export function certificateKeyId(cert: pkijs.Certificate): Uint8Array | undefined {
  const e = cert.extensions?.find((x) => x.extnID === '2.5.29.14');
  if (e === undefined) return undefined;
  const parsed = asn1js.fromBER(e.extnValue.valueBlock.valueHexView);
  return parsed.result instanceof asn1js.OctetString ? new Uint8Array(parsed.result.valueBlock.valueHexView) : undefined;
}

/** A positive serial number of 16 random bytes (RFC 5280 §4.1.2.2: at most 20 octets). */
export function randomSerial(random: (n: number) => Uint8Array): Uint8Array {
  const b = random(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}

export function serialFromHex(hex: string): Uint8Array<ArrayBuffer> {
  const h = hex.replace(/^0x/i, '').replace(/:/g, '');
  if (!/^[0-9a-fA-F]+$/.test(h) || h.length > 40) throw new RangeError('serialNumber must be hex, at most 20 bytes');
  const bytes = Buffer.from(h.length % 2 ? `0${h}` : h, 'hex');
  return bytes[0]! & 0x80 ? Uint8Array.from([0, ...bytes]) : Uint8Array.from(bytes);
}
