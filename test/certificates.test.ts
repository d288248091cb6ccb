// test/certificates.test.ts — certificates signed in the HSM with non-extractable keys (hsm.pki over
// pkijs, pkijs directly, @peculiar/x509 over hsm.crypto), checked by OpenSSL; certificates stored on
// the token (hsm.certificates) and seen through the PKCS#11 module by pkcs11-tool and
// node-webcrypto-p11.

import 'reflect-metadata';

import { spawnSync } from 'node:child_process';
import { type webcrypto as wc } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { Crypto as P11Crypto } from 'node-webcrypto-p11';
import * as pkijs from 'pkijs';
import { afterAll, describe, expect, it } from 'vitest';

import { Pki, SealHsm, type HsmCryptoKey } from '../src/index.js';
import { cryptoUser } from './helpers/hsm.js';
import { MODULE, configure } from './helpers/module.js';
import { hasProgram } from './helpers/programs.js';

const openssl = hasProgram('openssl', 'openssl');
const opensc = hasProgram('pkcs11-tool', 'opensc');
const dir = mkdtempSync(join(tmpdir(), 'sealhsm-certs-'));
const open: SealHsm[] = [];
afterAll(() => {
  open.forEach((h) => h.close());
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, content?: string | Uint8Array): string => {
  const p = join(dir, name);
  if (content !== undefined) writeFileSync(p, content);
  return p;
};
function ossl(...args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}:\n${out}`);
  return out;
}

async function hsmFor(profile: 'cloudhsm' | 'pkcs11' = 'cloudhsm'): Promise<SealHsm> {
  const hsm = await cryptoUser(profile);
  open.push(hsm);
  return hsm;
}

describe('hsm.pki: CSR, CA, leaf, CRL and CMS with keys that never leave the HSM', () => {
  it.skipIf(!openssl)('makes each with ECDSA and RSA keys, and OpenSSL accepts every one', async () => {
    const hsm = await hsmFor();
    const caKeys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']);
    expect((await (caKeys.privateKey as HsmCryptoKey).handle.info()).attributes.extractable).toBe(false);
    const ca = await hsm.pki.selfSignCa({ keys: caKeys, subject: { C: 'DE', O: 'sealhsm tests', CN: 'Test Root CA' }, pathLength: 0 });
    file('ca.pem', ca.pem);
    expect(ossl('verify', '-CAfile', file('ca.pem'), file('ca.pem'))).toContain('OK');
    expect(ossl('x509', '-in', file('ca.pem'), '-noout', '-text')).toMatch(/CA:TRUE, pathlen:0[\s\S]*Certificate Sign, CRL Sign/);

    // A service's RSA key, made through hsm.keys (a KeyHandle pair), asks for a certificate.
    const svc = await hsm.keys.generateRsa({ modulusBits: 2048, label: 'svc', extractable: false });
    expect((await svc.privateKey.info()).attributes.extractable).toBe(false);
    const csr = await hsm.pki.createCsr({ keys: svc, subject: { O: 'sealhsm tests', CN: 'svc.example.test' }, subjectAltNames: { dns: ['svc.example.test'], ip: ['10.0.0.7', '::1'] } });
    file('svc.csr', csr.pem);
    expect(ossl('req', '-verify', '-noout', '-in', file('svc.csr'))).toMatch(/verify OK|Certificate request self-signature verify OK/);

    const leaf = await hsm.pki.issueCertificate({ issuer: { privateKey: caKeys.privateKey, certificate: ca.der }, csr: csr.pem, extendedKeyUsage: ['serverAuth', 'clientAuth', 'emailProtection'], validityDays: 30 });
    file('leaf.pem', leaf.pem);
    expect(ossl('verify', '-CAfile', file('ca.pem'), file('leaf.pem'))).toContain('OK');
    const text = ossl('x509', '-in', file('leaf.pem'), '-noout', '-text');
    expect(text).toMatch(/DNS:svc\.example\.test, IP Address:10\.0\.0\.7, IP Address:0:0:0:0:0:0:0:1/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toContain('Subject: O = sealhsm tests, CN = svc.example.test');

    // A CRL revoking the leaf, signed by the CA.
    const crl = await hsm.pki.createCrl({ issuer: { privateKey: caKeys.privateKey, certificate: ca.pem }, revoked: [{ serialNumber: Pki.serialNumber(leaf.pem), reason: 'keyCompromise' }], crlNumber: 7 });
    file('ca.crl', crl.pem);
    expect(ossl('crl', '-in', file('ca.crl'), '-CAfile', file('ca.pem'), '-noout')).toMatch(/verify OK/);
    const revoked = spawnSync('openssl', ['verify', '-crl_check', '-CAfile', file('ca.pem'), '-CRLfile', file('ca.crl'), file('leaf.pem')], { encoding: 'utf8' });
    expect(`${revoked.stdout}${revoked.stderr}`).toContain('certificate revoked');

    // CMS SignedData by the service's key, attached and detached.
    const data = new TextEncoder().encode('signed inside the HSM\n');
    file('data.txt', data);
    const attached = await hsm.pki.signCms({ signer: { privateKey: svc.privateKey, certificate: leaf.der }, data, chain: [ca.der] });
    file('attached.p7', attached.der);
    expect(ossl('cms', '-verify', '-inform', 'DER', '-in', file('attached.p7'), '-CAfile', file('ca.pem'), '-purpose', 'any', '-out', file('out.txt'))).toContain('Verification successful');
    const detached = await hsm.pki.signCms({ signer: { privateKey: svc.privateKey, certificate: leaf.pem }, data, detached: true });
    file('detached.p7', detached.der);
    expect(ossl('cms', '-verify', '-inform', 'DER', '-in', file('detached.p7'), '-content', file('data.txt'), '-binary', '-CAfile', file('ca.pem'), '-purpose', 'any')).toContain('Verification successful');
  });

  it('refuses a CSR whose signature does not verify, and says what Ed25519 needs', async () => {
    const hsm = await hsmFor();
    const keys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const ca = await hsm.pki.selfSignCa({ keys, subject: { CN: 'CA' } });
    const csr = await hsm.pki.createCsr({ keys, subject: { CN: 'x' } });
    const bad = Buffer.from(csr.der);
    bad[bad.length - 5]! ^= 1;
    await expect(hsm.pki.issueCertificate({ issuer: { privateKey: keys.privateKey, certificate: ca.der }, csr: bad })).rejects.toThrow(/does not verify/);
    const ed = await hsm.subtle.generateKey('Ed25519', false, ['sign', 'verify']) as wc.CryptoKeyPair;
    await expect(hsm.pki.selfSignCa({ keys: ed, subject: { CN: 'ed' } })).rejects.toThrow(/@peculiar\/x509/);
    await expect(hsm.pki.selfSignCa({ keys, subject: { XX: 'y' } })).rejects.toThrow(RangeError);
  });
});

describe('pkijs directly over hsm.crypto', () => {
  it.skipIf(!openssl)('with setEngine: a self-signed certificate and a CSR signed by a non-extractable key', async () => {
    const hsm = await hsmFor('pkcs11');
    const engine = new pkijs.CryptoEngine({ name: 'sealhsm', crypto: hsm.crypto });
    pkijs.setEngine('sealhsm', engine);
    try {
      const keys = await hsm.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify']);
      const cert = new pkijs.Certificate();
      cert.version = 2;
      cert.serialNumber = new asn1js.Integer({ value: 42 });
      const cn = new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: 'pkijs with setEngine' }) });
      cert.subject.typesAndValues.push(cn);
      cert.issuer.typesAndValues.push(cn);
      cert.notBefore.value = new Date(Date.now() - 60_000);
      cert.notAfter.value = new Date(Date.now() + 86_400_000);
      await cert.subjectPublicKeyInfo.importKey(keys.publicKey as unknown as CryptoKey);
      await cert.sign(keys.privateKey as unknown as CryptoKey, 'SHA-256');
      expect(await cert.verify()).toBe(true);
      file('pkijs.pem', `-----BEGIN CERTIFICATE-----\n${Buffer.from(cert.toSchema().toBER()).toString('base64')}\n-----END CERTIFICATE-----\n`);
      expect(ossl('verify', '-CAfile', file('pkijs.pem'), file('pkijs.pem'))).toContain('OK');
    } finally {
      pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto }));
    }
  });
});

describe('@peculiar/x509 with hsm.crypto as its provider', () => {
  it.skipIf(!openssl)('self-signs an Ed25519 CA, issues an ECDSA leaf from a CSR, and signs a CRL', async () => {
    const hsm = await hsmFor();
    x509.cryptoProvider.set(hsm.crypto);
    try {
      const caKeys = await hsm.subtle.generateKey('Ed25519', false, ['sign', 'verify']) as wc.CryptoKeyPair;
      const ca = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: '01', name: 'CN=x509 Ed25519 CA', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
        signingAlgorithm: { name: 'Ed25519' }, keys: caKeys as unknown as CryptoKeyPair,
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
      });
      const leafKeys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as wc.CryptoKeyPair;
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=x509 leaf', keys: leafKeys as unknown as CryptoKeyPair, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } });
      expect(await csr.verify()).toBe(true);
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: '02', subject: csr.subject, issuer: ca.subject, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
        signingAlgorithm: { name: 'Ed25519' }, publicKey: csr.publicKey, signingKey: caKeys.privateKey as unknown as CryptoKey,
      });
      const crl = await x509.X509CrlGenerator.create({
        issuer: ca.subject, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), signingAlgorithm: { name: 'Ed25519' },
        signingKey: caKeys.privateKey as unknown as CryptoKey, entries: [{ serialNumber: '02', revocationDate: new Date() }],
      });
      file('x509-ca.pem', ca.toString('pem'));
      file('x509-leaf.pem', leaf.toString('pem'));
      file('x509-leaf.csr', csr.toString('pem'));
      file('x509.crl', new Uint8Array(crl.rawData)); // DER: @peculiar/x509 labels its PEM 'CRL', OpenSSL wants 'X509 CRL'
      expect(ossl('verify', '-CAfile', file('x509-ca.pem'), file('x509-leaf.pem'))).toContain('OK');
      expect(ossl('req', '-verify', '-noout', '-in', file('x509-leaf.csr'))).toMatch(/verify OK/);
      expect(ossl('crl', '-inform', 'DER', '-in', file('x509.crl'), '-CAfile', file('x509-ca.pem'), '-noout')).toMatch(/verify OK/);
    } finally {
      x509.cryptoProvider.clear();
    }
  });
});

describe('hsm.certificates: certificates on the token', () => {
  it('imports (DER and PEM), lists, finds by label, id, subject, issuer and serial, exports, links to the key pair, deletes', async () => {
    const hsm = await hsmFor();
    const keys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'], { token: true, label: 'web' });
    const ca = await hsm.pki.selfSignCa({ keys, subject: { O: 'Acme', CN: 'Acme CA' } });
    const other = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const leaf = await hsm.pki.issueCertificate({ issuer: { privateKey: keys.privateKey, certificate: ca.der }, publicKey: other.publicKey, subject: { CN: 'leaf' } });

    const caCert = await hsm.certificates.import(ca.pem, { label: 'acme-ca' });
    const leafCert = await hsm.certificates.import(leaf.der);
    expect((await hsm.certificates.list()).map((c) => c.ref).sort()).toEqual([caCert.ref, leafCert.ref].sort());
    const info = await caCert.info();
    expect(info).toMatchObject({ label: 'acme-ca', subject: 'O=Acme, CN=Acme CA', issuer: 'O=Acme, CN=Acme CA', token: true });
    expect((await leafCert.info()).label).toBe('leaf');

    // CKA_ID links the CA certificate to the token key pair it certifies
    const { id: keyId } = await (keys.privateKey as HsmCryptoKey).handle.info();
    expect(Buffer.from(info.id).equals(Buffer.from(keyId))).toBe(true);
    const pair = await caCert.keyPair();
    expect([pair.privateKey?.ref, pair.publicKey?.ref]).toEqual([(keys.privateKey as HsmCryptoKey).handle.ref, (keys.publicKey as HsmCryptoKey).handle.ref]);
    expect((await hsm.certificates.forKey((keys.privateKey as HsmCryptoKey).handle)).map((c) => c.ref)).toEqual([caCert.ref]);
    expect(await leafCert.keyPair()).toEqual({});

    expect((await hsm.certificates.find({ label: 'acme-ca' })).map((c) => c.ref)).toEqual([caCert.ref]);
    expect((await hsm.certificates.find({ id: info.id })).map((c) => c.ref)).toEqual([caCert.ref]);
    expect((await hsm.certificates.find({ subject: 'CN=leaf' })).map((c) => c.ref)).toEqual([leafCert.ref]);
    const bySerial = await hsm.certificates.find({ issuer: 'O=Acme, CN=Acme CA', serialNumber: Pki.serialNumber(leaf.der) });
    expect(bySerial.map((c) => c.ref)).toEqual([leafCert.ref]);
    const der = pkijs.Certificate.fromBER(new Uint8Array(leaf.der));
    expect((await hsm.certificates.find({ subject: new Uint8Array(der.subject.valueBeforeDecode) })).map((c) => c.ref)).toEqual([leafCert.ref]);

    expect((await leafCert.der()).equals(leaf.der)).toBe(true);
    expect(await caCert.pem()).toBe(ca.pem);
    await leafCert.delete();
    expect((await hsm.certificates.list()).map((c) => c.ref)).toEqual([caCert.ref]);
    await expect(hsm.certificates.import(new Uint8Array([48, 3, 2, 1, 1]))).rejects.toMatchObject({ code: 'CKR_ATTRIBUTE_VALUE_INVALID' });
    await expect(hsm.certificates.import('not a pem')).rejects.toThrow(TypeError);
    expect((await hsm.certificates.list()).length).toBe(1);
  });

  it.skipIf(!opensc)('a certificate stored by the client is seen through the PKCS#11 module (pkcs11-tool -O, node-webcrypto-p11 certStorage)', async () => {
    const tokenDir = join(dir, 'token');
    const hsm = await SealHsm.open({ dir: tokenDir, create: true, profile: 'pkcs11', label: 'certs' });
    await hsm.activate('so-password');
    await hsm.login('so', 'so-password');
    await hsm.users.create('user', 'user-password');
    hsm.logout();
    await hsm.login('user', 'user-password');
    const keys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'], { token: true, label: 'device' });
    const cert = await hsm.pki.selfSignCa({ keys, subject: { CN: 'device-42' } });
    const stored = await hsm.certificates.import(cert.der, { label: 'device' });
    const id = Buffer.from((await stored.info()).id).toString('hex');
    hsm.close();

    const { conf } = configure([`slot ${tokenDir}`]);
    const r = spawnSync('pkcs11-tool', ['--module', MODULE, '--login', '--pin', 'user-password', '-O'], { encoding: 'utf8', env: { ...process.env, SEALHSM_PKCS11_CONF: conf } });
    const listed = `${r.stdout}${r.stderr}`;
    expect(r.status, listed).toBe(0);
    expect(listed).toMatch(/Certificate Object; type = X\.509 cert\s+label:\s+device/);
    expect(listed).toContain(`ID:         ${id}`);
    expect(listed).toContain('subject:    DN: CN=device-42');
    const out = join(dir, 'read.der');
    const rr = spawnSync('pkcs11-tool', ['--module', MODULE, '--login', '--pin', 'user-password', '--read-object', '--type', 'cert', '--id', id, '-o', out], { encoding: 'utf8', env: { ...process.env, SEALHSM_PKCS11_CONF: conf } });
    expect(rr.status, `${rr.stdout}${rr.stderr}`).toBe(0);

    const p11 = new P11Crypto({ library: MODULE, slot: 0, readWrite: true, pin: 'user-password' });
    try {
      const indexes = await p11.certStorage.keys();
      expect(indexes.some((k) => k.startsWith('x509-'))).toBe(true);
      const item = await p11.certStorage.getItem(indexes.find((k) => k.startsWith('x509-'))!);
      expect((item as unknown as { subjectName: string }).subjectName).toContain('device-42');
    } finally {
      p11.close?.();
    }
  });
});
