// examples/jwt-service.mjs — a service that issues JWTs and holds its certificate on a persistent
// token, with the signing key sealed in the HSM. Run: node examples/jwt-service.mjs [token-dir]
// (--self-test: start, call itself once, print what it got, stop).
//
// First start: activates the token, creates the service's crypto user, makes a P-256 signing key and
// a CA in the token, and issues and stores the service's certificate. Later starts find them again.
// Passwords come from SEALHSM_ADMIN_PASSWORD and SEALHSM_SERVICE_PASSWORD (demo values otherwise).
//   GET  /.well-known/jwks.json   the public signing key, kid = RFC 7638 thumbprint
//   POST /token                   {"sub": "..."} → {"token": "<ES256 JWT, 10 minutes>"}
//   GET  /ca.pem, /cert.pem       the CA and the service's certificate, read from the token

import { createServer } from 'node:http';
import { once } from 'node:events';
import { existsSync } from 'node:fs';

import { SealHsm, createJwks, signJwt, verifyJwt } from '../dist/index.js';

const dir = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'jwt-service-token';
const selfTest = process.argv.includes('--self-test');
const adminPassword = process.env.SEALHSM_ADMIN_PASSWORD ?? 'demo-admin-password';
const servicePassword = process.env.SEALHSM_SERVICE_PASSWORD ?? 'demo-service-password';
const ISSUER = 'https://jwt-service.example';

const fresh = !existsSync(dir);
const hsm = await SealHsm.open({ dir, create: fresh, profile: 'cloudhsm', label: 'jwt-service' });
if (fresh) {
  await hsm.activate(adminPassword);
  await hsm.login('admin', adminPassword);
  await hsm.users.create('jwt_service', servicePassword);
  hsm.logout();
}
await hsm.login('jwt_service', servicePassword);

if (fresh) {
  // Keys made in the token, never extractable; token key pairs get CKA_ID = SHA-1 of the public key.
  const signer = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'], { token: true, label: 'jwt-signer' });
  const caKeys = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify'], { token: true, label: 'service-ca' });
  const ca = await hsm.pki.selfSignCa({ keys: caKeys, subject: { O: 'Example', CN: 'Example Service CA' }, pathLength: 0 });
  const csr = await hsm.pki.createCsr({ keys: signer, subject: { O: 'Example', CN: 'jwt-service.example' }, subjectAltNames: { dns: ['jwt-service.example'] } });
  const cert = await hsm.pki.issueCertificate({ issuer: { privateKey: caKeys.privateKey, certificate: ca.der }, csr: csr.der, extendedKeyUsage: ['serverAuth'] });
  await hsm.certificates.import(ca.der, { label: 'service-ca' });
  await hsm.certificates.import(cert.der, { label: 'jwt-signer' });
  console.log(`provisioned a new token in ${dir}`);
}

const [privateKey] = await hsm.keys.find({ label: 'jwt-signer', class: 'private-key' });
const [publicKey] = await hsm.keys.find({ label: 'jwt-signer', class: 'public-key' });
const jwks = await createJwks([publicKey]);
const kid = jwks.keys[0].kid;
const pemOf = async (label) => (await hsm.certificates.find({ label }))[0].pem();

const server = createServer(async (req, res) => {
  const send = (status, type, body) => { res.writeHead(status, { 'content-type': type }); res.end(body); };
  try {
    if (req.method === 'GET' && req.url === '/.well-known/jwks.json') return send(200, 'application/json', JSON.stringify(jwks));
    if (req.method === 'GET' && req.url === '/ca.pem') return send(200, 'application/x-pem-file', await pemOf('service-ca'));
    if (req.method === 'GET' && req.url === '/cert.pem') return send(200, 'application/x-pem-file', await pemOf('jwt-signer'));
    if (req.method === 'POST' && req.url === '/token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const { sub } = JSON.parse(body || '{}');
      if (typeof sub !== 'string' || sub === '') return send(400, 'application/json', '{"error":"sub is required"}');
      const token = await signJwt({ scope: 'api' }, privateKey, { kid, issuer: ISSUER, subject: sub, audience: 'api', expiresIn: '10m' });
      return send(200, 'application/json', JSON.stringify({ token }));
    }
    send(404, 'application/json', '{"error":"not found"}');
  } catch (e) {
    send(500, 'application/json', JSON.stringify({ error: e.message }));
  }
});
server.listen(selfTest ? 0 : Number(process.env.PORT ?? 8080), '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${server.address().port}`;
console.log(`jwt-service on ${base}, signing key ${kid}`);

if (selfTest) {
  const { token } = await (await fetch(`${base}/token`, { method: 'POST', body: JSON.stringify({ sub: 'user-17' }) })).json();
  const keys = await (await fetch(`${base}/.well-known/jwks.json`)).json();
  const { payload } = await verifyJwt(token, keys, { issuer: ISSUER, audience: 'api', algorithms: ['ES256'] });
  console.log(`token for ${payload.sub}, valid for ${payload.exp - payload.iat} s, verified against the JWKS`);
  const cert = await (await fetch(`${base}/cert.pem`)).text();
  console.log(`certificate: ${new (await import('node:crypto')).X509Certificate(cert).subject.replace(/\n/g, ', ')}`);
  server.close();
  hsm.close();
}
