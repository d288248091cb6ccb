// src/certs/objects.ts
//
// X.509 certificates as token objects (CKO_CERTIFICATE, CKC_X_509) with the attributes PKCS#11
// applications look for: CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER (DER), CKA_VALUE (the
// certificate), CKA_ID (shared with its key pair), CKA_LABEL. The PKCS#11 module shows the same
// objects to pkcs11-tool, node-webcrypto-p11's certStorage, Java and OpenSSL.

import { X509Certificate } from 'node:crypto';

import * as pkijs from 'pkijs';

import { call, hsmError } from '../errors.js';
import { keyIdentifier } from '../keys/export.js';
import { CKA, CKO } from '../native/pkcs11_gen.js';
import type { ClientContext } from '../client/context.js';
import type { KeyHandle } from '../client/key_handle.js';
import type { KeyManager } from '../client/keys.js';

const CKC_X_509 = 0;

/** A certificate as DER bytes or PEM text. */
export type CertificateInput = Uint8Array | string;

export interface CertificateInfo {
  readonly ref: number;
  readonly label: string;
  /** CKA_ID: the same as its key pair's. */
  readonly id: Uint8Array;
  /** RFC 2253 style, as node:crypto prints them. */
  readonly subject: string;
  readonly issuer: string;
  /** Upper-case hex, as OpenSSL prints it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly token: boolean;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprint256: string;
}

export interface CertificateFilter {
  readonly label?: string;
  readonly id?: Uint8Array;
  /** The subject as DER, or as the string `info().subject` prints. */
  readonly subject?: Uint8Array | string;
  /** Issuer and serial number together name one certificate (as CMS does). */
  readonly issuer?: Uint8Array | string;
  readonly serialNumber?: string;
}

/** DER of a certificate given as DER or PEM; throws TypeError for anything else. */
export function certificateDer(input: CertificateInput): Buffer {
  if (typeof input === 'string') {
    const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(input);
    if (m === null) throw new TypeError('expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
    return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  }
  if (!(input instanceof Uint8Array)) throw new TypeError('a certificate is DER bytes or PEM text');
  return Buffer.from(input);
}

/** The parts of a certificate the token indexes. */
function parse(der: Buffer): { x509: X509Certificate; subject: Buffer; issuer: Buffer; serial: Buffer } {
  let x509: X509Certificate;
  let cert: pkijs.Certificate;
  try {
    x509 = new X509Certificate(der);
    cert = pkijs.Certificate.fromBER(new Uint8Array(der));
  } catch (e) {
    throw hsmError('CKR_ATTRIBUTE_VALUE_INVALID', `not an X.509 certificate: ${(e as Error).message}`, e);
  }
  return {
    x509,
    subject: Buffer.from(cert.subject.valueBeforeDecode),
    issuer: Buffer.from(cert.issuer.valueBeforeDecode),
    serial: Buffer.from(cert.serialNumber.toBER(false)),
  };
}

/** A certificate object on the token. */
export class CertificateHandle {
  readonly #ctx: ClientContext;
  readonly #keys: KeyManager;
  readonly ref: number;

  /** @internal */
  constructor(ctx: ClientContext, keys: KeyManager, ref: number) {
    this.#ctx = ctx;
    this.#keys = keys;
    this.ref = ref;
  }

  /** The certificate's DER bytes (CKA_VALUE). */
  async der(): Promise<Buffer> {
    const [v] = await call(this.#ctx.native.getAttributes(this.#ctx.session(), this.ref, [CKA.VALUE]));
    if (!v?.value) throw hsmError('CKR_OBJECT_HANDLE_INVALID', `object ${this.ref} has no certificate value`);
    return v.value;
  }

  async pem(): Promise<string> {
    return new X509Certificate(await this.der()).toString();
  }

  async info(): Promise<CertificateInfo> {
    const got = await call(this.#ctx.native.getAttributes(this.#ctx.session(), this.ref, [CKA.LABEL, CKA.ID, CKA.TOKEN, CKA.VALUE]));
    const value = (t: number) => got.find((a) => a.type === t)?.value ?? null;
    const x = new X509Certificate(value(CKA.VALUE) ?? Buffer.alloc(0));
    return {
      ref: this.ref, label: value(CKA.LABEL)?.toString('utf8') ?? '', id: new Uint8Array(value(CKA.ID) ?? []),
      subject: x.subject.replace(/\n/g, ', '), issuer: x.issuer.replace(/\n/g, ', '), serialNumber: x.serialNumber.toUpperCase(),
      notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo), token: value(CKA.TOKEN)?.[0] === 1, fingerprint256: x.fingerprint256,
    };
  }

  /** The key pair this certificate is for: the keys with its CKA_ID whose public key is the
   *  certificate's. Either half may be missing (a CA's certificate usually has no private key here). */
  async keyPair(): Promise<{ publicKey?: KeyHandle; privateKey?: KeyHandle }> {
    const [{ id }, der] = await Promise.all([this.info(), this.der()]);
    if (id.length === 0) return {};
    const spki = new X509Certificate(der).publicKey.export({ format: 'der', type: 'spki' });
    const out: { publicKey?: KeyHandle; privateKey?: KeyHandle } = {};
    for (const k of await this.#keys.find({ id })) {
      if (k.class === 'secret-key') continue;
      const same = Buffer.from(await k.exportPublicKey('spki')).equals(spki);
      if (!same) continue;
      if (k.class === 'public-key') out.publicKey ??= k;
      else out.privateKey ??= k;
    }
    return out;
  }

  async delete(): Promise<void> {
    await call(this.#ctx.native.destroyObject(this.#ctx.session(), this.ref));
  }
}

/** `hsm.certificates`: import, list, find, export and delete certificates on the token. */
export class CertificateManager {
  readonly #ctx: ClientContext;
  readonly #keys: KeyManager;

  /** @internal */
  constructor(ctx: ClientContext, keys: KeyManager) {
    this.#ctx = ctx;
    this.#keys = keys;
  }

  /** Stores a certificate. Its CKA_ID is `id` if given, else that of the key pair on the token whose
   *  public key it certifies, else the SHA-1 of its public key (what token keys made through
   *  hsm.subtle get, so a later key finds it). Token object by default. */
  async import(certificate: CertificateInput, options: { label?: string; id?: Uint8Array; token?: boolean } = {}): Promise<CertificateHandle> {
    const der = certificateDer(certificate);
    const { x509, subject, issuer, serial } = parse(der);
    if (options.label !== undefined && typeof options.label !== 'string') throw new TypeError('label must be a string');
    if (options.id !== undefined && !(options.id instanceof Uint8Array)) throw new TypeError('id must be a Uint8Array');
    const id = options.id ?? (await this.#idFor(x509));
    const tmpl: Array<[number, number | boolean | Uint8Array | string]> = [
      [CKA.CLASS, CKO.CERTIFICATE], [CKA.CERTIFICATE_TYPE, CKC_X_509], [CKA.TOKEN, options.token ?? true], [CKA.PRIVATE, false],
      [CKA.LABEL, options.label ?? subjectCn(x509) ?? ''], [CKA.ID, id], [CKA.SUBJECT, subject], [CKA.ISSUER, issuer],
      [CKA.SERIAL_NUMBER, serial], [CKA.VALUE, der],
    ];
    const ref = await call(this.#ctx.native.createObject(this.#ctx.session(), tmpl));
    return new CertificateHandle(this.#ctx, this.#keys, ref);
  }

  /** Every certificate this user can see. */
  async list(): Promise<CertificateHandle[]> {
    return this.find({});
  }

  /** Certificates matching every filter given. */
  async find(filter: CertificateFilter): Promise<CertificateHandle[]> {
    if (filter === null || typeof filter !== 'object') throw new TypeError('filter must be an object');
    const tmpl: Array<[number, number | Uint8Array | string]> = [[CKA.CLASS, CKO.CERTIFICATE]];
    if (filter.label !== undefined) tmpl.push([CKA.LABEL, filter.label]);
    if (filter.id !== undefined) tmpl.push([CKA.ID, filter.id]);
    if (filter.subject instanceof Uint8Array) tmpl.push([CKA.SUBJECT, filter.subject]);
    if (filter.issuer instanceof Uint8Array) tmpl.push([CKA.ISSUER, filter.issuer]);
    const refs = await call(this.#ctx.native.findObjects(this.#ctx.session(), tmpl));
    const handles = refs.map((r) => new CertificateHandle(this.#ctx, this.#keys, r));
    const strings = typeof filter.subject === 'string' || typeof filter.issuer === 'string' || filter.serialNumber !== undefined;
    if (!strings) return handles;
    const infos = await Promise.all(handles.map((h) => h.info()));
    const serial = filter.serialNumber?.replace(/^0x/i, '').replace(/:/g, '').toUpperCase().replace(/^0+(?=.)/, '');
    return handles.filter((_, i) => {
      const info = infos[i]!;
      return (typeof filter.subject !== 'string' || info.subject === filter.subject) &&
        (typeof filter.issuer !== 'string' || info.issuer === filter.issuer) &&
        (serial === undefined || info.serialNumber.replace(/^0+(?=.)/, '') === serial);
    });
  }

  /** Certificates for a key (either half): those sharing its CKA_ID and certifying its public key. */
  async forKey(key: KeyHandle): Promise<CertificateHandle[]> {
    const { id } = await key.info();
    if (id.length === 0) return [];
    const spki = await key.exportPublicKey('spki');
    const certs = await this.find({ id });
    const ders = await Promise.all(certs.map((c) => c.der()));
    return certs.filter((_, i) => new X509Certificate(ders[i]!).publicKey.export({ format: 'der', type: 'spki' }).equals(spki));
  }

  async #idFor(x509: X509Certificate): Promise<Uint8Array> {
    const spki = x509.publicKey.export({ format: 'der', type: 'spki' });
    const pubs = await this.#keys.find({ class: 'public-key' });
    for (const k of pubs) {
      if (!Buffer.from(await k.exportPublicKey('spki')).equals(spki)) continue;
      const { id } = await k.info();
      if (id.length > 0) return id;
    }
    // No key on the token yet: the RFC 5280 key identifier, as hsm.subtle's token key pairs get.
    return keyIdentifier(spki);
  }
}

function subjectCn(x: X509Certificate): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1];
}

