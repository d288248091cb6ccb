// src/certs/pki.ts
//
// `hsm.pki`: the common certificate flows with keys that never leave the HSM, so a service needs no
// pkijs knowledge for them — a PKCS#10 request for a key, a self-signed CA, a certificate issued by
// that CA (from a request or a public key), a CRL, and a CMS SignedData. pkijs builds the structures
// and signs through this HSM's Web Crypto facade (a per-call engine: no global state). ECDSA and RSA
// keys sign (pkijs has no Ed25519; @peculiar/x509 over `hsm.crypto` does, see README).

import { X509Certificate, type webcrypto } from 'node:crypto';

import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

import { KeyHandle } from '../client/key_handle.js';
import { keyIdentifier } from '../keys/export.js';
import type { HsmCrypto } from '../webcrypto/types.js';
import { certificateDer, type CertificateInput } from './objects.js';
import {
  altNames, authorityKeyIdentifier, basicConstraints, certificateKeyId, crlNumber, crlReason, extendedKeyUsage, keyUsage, name,
  randomSerial, serialFromHex, subjectAltName, subjectKeyIdentifier,
} from './parts.js';
import type { AltNames, CrlReason, KeyUsageName, NameInput } from './types.js';

export type { AltNames, CrlReason, KeyUsageName, NameInput };

/** A key for signing or certifying: a CryptoKey from `hsm.subtle`, or a KeyHandle from `hsm.keys`. */
export type PkiKey = webcrypto.CryptoKey | KeyHandle;
export interface PkiKeyPair {
  readonly privateKey: PkiKey;
  readonly publicKey: PkiKey;
}
/** Who signs: the CA's private key and its certificate. */
export interface PkiIssuer {
  readonly privateKey: PkiKey;
  readonly certificate: CertificateInput;
}
export type PkiHash = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** A signed object as DER and PEM. */
export interface Encoded {
  readonly der: Buffer;
  readonly pem: string;
}

const DAY = 86_400_000;
const pem = (label: string, der: Uint8Array): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
const encoded = (label: string, der: ArrayBuffer): Encoded => ({ der: Buffer.from(der), pem: pem(label, new Uint8Array(der)) });

function pemOrDer(input: CertificateInput | Uint8Array, label: string): Uint8Array<ArrayBuffer> {
  if (typeof input !== 'string') return Uint8Array.from(input);
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(input);
  if (m === null) throw new TypeError(`expected PEM with -----BEGIN ${label}-----`);
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

function validity(notBefore: Date | undefined, days: number): [Date, Date] {
  if (!Number.isFinite(days) || days <= 0) throw new RangeError('validityDays must be a positive number');
  const from = notBefore ?? new Date(Date.now() - 5 * 60_000); // five minutes' allowance for clock skew
  return [from, new Date(from.getTime() + days * DAY)];
}

export class Pki {
  readonly #crypto: HsmCrypto;
  readonly #engine: pkijs.CryptoEngine;

  /** @internal */
  constructor(crypto: HsmCrypto) {
    this.#crypto = crypto;
    this.#engine = new pkijs.CryptoEngine({ name: 'sealhsm', crypto: crypto as unknown as Crypto });
  }

  /** A PKCS#10 certificate request for a key pair, signed with its private key. */
  async createCsr(options: { keys: PkiKeyPair; subject: NameInput; subjectAltNames?: AltNames; hash?: PkiHash }): Promise<Encoded> {
    const priv = await this.#cryptoKey(options.keys.privateKey, options.hash);
    const csr = new pkijs.CertificationRequest();
    csr.subject = name(options.subject);
    csr.subjectPublicKeyInfo = await this.#publicKeyInfo(options.keys.publicKey);
    if (options.subjectAltNames !== undefined) {
      const request = new pkijs.Extensions({ extensions: [subjectAltName(options.subjectAltNames)] });
      csr.attributes = [new pkijs.Attribute({ type: '1.2.840.113549.1.9.14', values: [request.toSchema()] })];
    }
    await csr.sign(priv, this.#hash(priv, options.hash), this.#engine);
    return encoded('CERTIFICATE REQUEST', csr.toSchema(true).toBER(false));
  }

  /** A self-signed CA certificate (basicConstraints cA, keyCertSign and cRLSign). */
  async selfSignCa(options: { keys: PkiKeyPair; subject: NameInput; validityDays?: number; notBefore?: Date; pathLength?: number; serialNumber?: string; hash?: PkiHash }): Promise<Encoded> {
    const priv = await this.#cryptoKey(options.keys.privateKey, options.hash);
    const spki = await this.#publicKeyInfo(options.keys.publicKey);
    const id = keyIdentifier(new Uint8Array(spki.toSchema().toBER(false)));
    const cert = this.#tbs(options.serialNumber, validity(options.notBefore, options.validityDays ?? 3650));
    cert.subject = name(options.subject);
    cert.issuer = name(options.subject);
    cert.subjectPublicKeyInfo = spki;
    cert.extensions = [
      basicConstraints(true, options.pathLength), keyUsage(['digitalSignature', 'keyCertSign', 'cRLSign']),
      subjectKeyIdentifier(id), authorityKeyIdentifier(id),
    ];
    await cert.sign(priv, this.#hash(priv, options.hash), this.#engine);
    return encoded('CERTIFICATE', cert.toSchema(true).toBER(false));
  }

  /** A certificate signed by `issuer` for the key in `csr` (its signature is checked first) or for
   *  `publicKey`. The subject and alternative names default to the request's. */
  async issueCertificate(options: {
    issuer: PkiIssuer; csr?: CertificateInput | Uint8Array; publicKey?: PkiKey; subject?: NameInput; subjectAltNames?: AltNames;
    validityDays?: number; notBefore?: Date; serialNumber?: string; keyUsage?: readonly KeyUsageName[]; extendedKeyUsage?: readonly string[];
    ca?: boolean | { pathLength?: number }; hash?: PkiHash;
  }): Promise<Encoded> {
    const issuerCert = pkijs.Certificate.fromBER(new Uint8Array(certificateDer(options.issuer.certificate)));
    const priv = await this.#cryptoKey(options.issuer.privateKey, options.hash);
    let spki: pkijs.PublicKeyInfo;
    let subject = options.subject === undefined ? undefined : name(options.subject);
    let sans: pkijs.AltName | undefined = options.subjectAltNames === undefined ? undefined : altNames(options.subjectAltNames);
    if (options.csr !== undefined) {
      const csr = pkijs.CertificationRequest.fromBER(pemOrDer(options.csr, 'CERTIFICATE REQUEST'));
      if (!(await csr.verify(new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto })))) throw new RangeError('the certificate request\'s signature does not verify');
      spki = csr.subjectPublicKeyInfo;
      subject ??= csr.subject;
      sans ??= requestedAltNames(csr);
    } else if (options.publicKey !== undefined) {
      spki = await this.#publicKeyInfo(options.publicKey);
    } else {
      throw new TypeError('issueCertificate needs a csr or a publicKey');
    }
    if (subject === undefined) throw new TypeError('issueCertificate needs a subject');
    const ca = options.ca === true ? {} : options.ca === false || options.ca === undefined ? undefined : options.ca;
    const isRsa = spki.algorithm.algorithmId === '1.2.840.113549.1.1.1';
    const usages = options.keyUsage ?? (ca ? ['digitalSignature', 'keyCertSign', 'cRLSign'] : isRsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
    const cert = this.#tbs(options.serialNumber, validity(options.notBefore, options.validityDays ?? 365));
    cert.subject = subject;
    cert.issuer = issuerCert.subject;
    cert.subjectPublicKeyInfo = spki;
    cert.extensions = [
      basicConstraints(ca !== undefined, ca?.pathLength), keyUsage(usages),
      ...(options.extendedKeyUsage?.length ? [extendedKeyUsage(options.extendedKeyUsage)] : []),
      ...(sans ? [subjectAltName(sans)] : []),
      subjectKeyIdentifier(keyIdentifier(new Uint8Array(spki.toSchema().toBER(false)))),
      authorityKeyIdentifier(certificateKeyId(issuerCert) ?? keyIdentifier(new Uint8Array(issuerCert.subjectPublicKeyInfo.toSchema().toBER(false)))),
    ];
    await cert.sign(priv, this.#hash(priv, options.hash), this.#engine);
    return encoded('CERTIFICATE', cert.toSchema(true).toBER(false));
  }

  /** A CRL (v2) listing revoked serial numbers, signed by the CA. */
  async createCrl(options: {
    issuer: PkiIssuer; revoked: ReadonlyArray<{ serialNumber: string; date?: Date; reason?: CrlReason }>;
    thisUpdate?: Date; nextUpdate?: Date; crlNumber?: number; hash?: PkiHash;
  }): Promise<Encoded> {
    const issuerCert = pkijs.Certificate.fromBER(new Uint8Array(certificateDer(options.issuer.certificate)));
    const priv = await this.#cryptoKey(options.issuer.privateKey, options.hash);
    const thisUpdate = options.thisUpdate ?? new Date();
    const crl = new pkijs.CertificateRevocationList();
    crl.version = 1;
    crl.issuer = issuerCert.subject;
    crl.thisUpdate = new pkijs.Time({ type: 0, value: thisUpdate });
    crl.nextUpdate = new pkijs.Time({ type: 0, value: options.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * DAY) });
    if (options.revoked.length > 0) {
      crl.revokedCertificates = options.revoked.map((r) => new pkijs.RevokedCertificate({
        userCertificate: new asn1js.Integer({ valueHex: serialFromHex(r.serialNumber) }),
        revocationDate: new pkijs.Time({ type: 0, value: r.date ?? thisUpdate }),
        ...(r.reason !== undefined && { crlEntryExtensions: new pkijs.Extensions({ extensions: [crlReason(r.reason)] }) }),
      }));
    }
    const aki = certificateKeyId(issuerCert) ?? keyIdentifier(new Uint8Array(issuerCert.subjectPublicKeyInfo.toSchema().toBER(false)));
    crl.crlExtensions = new pkijs.Extensions({ extensions: [authorityKeyIdentifier(aki), crlNumber(options.crlNumber ?? 1)] });
    await crl.sign(priv, this.#hash(priv, options.hash), this.#engine);
    return encoded('X509 CRL', crl.toSchema(true).toBER(false));
  }

  /** A CMS SignedData (RFC 5652) over `data`, with the signer's certificate (and `chain`), the
   *  content type, signing time and message digest as signed attributes; `detached` leaves the data
   *  out. Returns the DER of the ContentInfo. */
  async signCms(options: { signer: PkiIssuer; data: Uint8Array; detached?: boolean; chain?: readonly CertificateInput[]; hash?: PkiHash }): Promise<Encoded> {
    const signerCert = pkijs.Certificate.fromBER(new Uint8Array(certificateDer(options.signer.certificate)));
    const priv = await this.#cryptoKey(options.signer.privateKey, options.hash);
    const hash = this.#hash(priv, options.hash);
    const data = new Uint8Array(options.data);
    const digest = await this.#crypto.subtle.digest(hash, data);
    const signed = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({
        eContentType: '1.2.840.113549.1.7.1',
        ...(!options.detached && { eContent: new asn1js.OctetString({ valueHex: data }) }),
      }),
      signerInfos: [new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: signerCert.issuer, serialNumber: signerCert.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({ type: '1.2.840.113549.1.9.3', values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })] }),
            new pkijs.Attribute({ type: '1.2.840.113549.1.9.5', values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
            new pkijs.Attribute({ type: '1.2.840.113549.1.9.4', values: [new asn1js.OctetString({ valueHex: digest })] }),
          ],
        }),
      })],
      certificates: [signerCert, ...(options.chain ?? []).map((c) => pkijs.Certificate.fromBER(new Uint8Array(certificateDer(c))))],
    });
    await signed.sign(priv, 0, hash, data, this.#engine);
    const info = new pkijs.ContentInfo({ contentType: '1.2.840.113549.1.7.2', content: signed.toSchema(true) });
    return encoded('CMS', info.toSchema().toBER(false));
  }

  /** The serial number of a certificate (upper-case hex), for CRLs. */
  static serialNumber(certificate: CertificateInput): string {
    return new X509Certificate(certificateDer(certificate)).serialNumber.toUpperCase();
  }

  #tbs(serialHex: string | undefined, [notBefore, notAfter]: [Date, Date]): pkijs.Certificate {
    const cert = new pkijs.Certificate();
    cert.version = 2;
    const serial = serialHex === undefined ? randomSerial((n) => this.#crypto.getRandomValues(new Uint8Array(n))) : serialFromHex(serialHex);
    cert.serialNumber = new asn1js.Integer({ valueHex: serial });
    cert.notBefore.value = notBefore;
    cert.notAfter.value = notAfter;
    return cert;
  }

  async #cryptoKey(key: PkiKey, hash: PkiHash | undefined): Promise<CryptoKey> {
    if (key instanceof KeyHandle) {
      const algorithm = key.type === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: hash ?? 'SHA-256' } : undefined;
      return (await this.#crypto.subtle.fromHandle(key, algorithm)) as unknown as CryptoKey;
    }
    return key as unknown as CryptoKey;
  }

  async #publicKeyInfo(key: PkiKey): Promise<pkijs.PublicKeyInfo> {
    const spki = key instanceof KeyHandle ? await key.exportPublicKey('spki') : Buffer.from(await this.#crypto.subtle.exportKey('spki', key));
    return pkijs.PublicKeyInfo.fromBER(new Uint8Array(spki));
  }

  /** The signing hash: given, else the RSA key's own, else the one that matches the curve. */
  #hash(key: CryptoKey, given: PkiHash | undefined): PkiHash {
    const alg = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
    if (alg.name === 'Ed25519') throw new TypeError('pkijs cannot sign with Ed25519 keys; use @peculiar/x509 with hsm.crypto (README, "Certificates")');
    if (alg.hash !== undefined) return alg.hash.name as PkiHash;
    return given ?? ({ 'P-384': 'SHA-384', 'P-521': 'SHA-512' } as Record<string, PkiHash>)[alg.namedCurve ?? ''] ?? 'SHA-256';
  }
}

function requestedAltNames(csr: pkijs.CertificationRequest): pkijs.AltName | undefined {
  const req = csr.attributes?.find((a) => a.type === '1.2.840.113549.1.9.14');
  if (req === undefined) return undefined;
  const exts = new pkijs.Extensions({ schema: req.values[0] });
  const san = exts.extensions.find((e) => e.extnID === '2.5.29.17');
  return san === undefined ? undefined : new pkijs.AltName({ schema: asn1js.fromBER(san.extnValue.valueBlock.valueHexView).result });
}
