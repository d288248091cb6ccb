// examples/pki.mjs — certificates and signatures from keys that never leave the HSM, with hsm.pki:
// a CA, a certificate request, a certificate issued from it, a CRL, and a CMS signature. Writes the
// results to a directory (default ./pki-out) and prints the OpenSSL commands that check them.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Pki, SealHsm } from '../dist/index.js';

const out = process.argv[2] ?? 'pki-out';
mkdirSync(out, { recursive: true });
const put = (name, data) => { writeFileSync(join(out, name), data); return join(out, name); };

const hsm = SealHsm.memory({ profile: 'cloudhsm' });
await hsm.activate('admin-password');
await hsm.login('admin', 'admin-password');
await hsm.users.create('pki', 'pki-password');
hsm.logout();
await hsm.login('pki', 'pki-password');

// A CA whose key is not extractable.
const caKeys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']);
const ca = await hsm.pki.selfSignCa({ keys: caKeys, subject: { C: 'DE', O: 'Example', CN: 'Example Root CA' }, validityDays: 3650 });

// A server asks for a certificate for its RSA key (made with the CloudHSM-style API).
const server = await hsm.keys.generateRsa({ modulusBits: 2048, label: 'www', extractable: false });
const csr = await hsm.pki.createCsr({ keys: server, subject: { O: 'Example', CN: 'www.example.test' }, subjectAltNames: { dns: ['www.example.test'] } });
const cert = await hsm.pki.issueCertificate({ issuer: { privateKey: caKeys.privateKey, certificate: ca.der }, csr: csr.pem, extendedKeyUsage: ['serverAuth'], validityDays: 90 });

// Revoke it again, and sign a document with it.
const crl = await hsm.pki.createCrl({ issuer: { privateKey: caKeys.privateKey, certificate: ca.der }, revoked: [{ serialNumber: Pki.serialNumber(cert.der), reason: 'superseded' }] });
const document = new TextEncoder().encode('a document signed in the HSM\n');
const cms = await hsm.pki.signCms({ signer: { privateKey: server.privateKey, certificate: cert.der }, data: document, detached: true });

const files = {
  ca: put('ca.pem', ca.pem), csr: put('www.csr', csr.pem), cert: put('www.pem', cert.pem), crl: put('ca.crl', crl.pem),
  doc: put('document.txt', document), sig: put('document.p7s', cms.der),
};
console.log(`wrote ${Object.values(files).join(', ')}`);
console.log('check them with:');
console.log(`  openssl req -verify -noout -in ${files.csr}`);
console.log(`  openssl verify -CAfile ${files.ca} ${files.cert}`);
console.log(`  openssl crl -noout -in ${files.crl} -CAfile ${files.ca}`);
console.log(`  openssl cms -verify -binary -inform DER -in ${files.sig} -content ${files.doc} -CAfile ${files.ca} -purpose any -out /dev/null`);
hsm.close();
