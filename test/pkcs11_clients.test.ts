// test/pkcs11_clients.test.ts
// sealhsm-pkcs11.so driven by clients we did not write, on one persistent pkcs11-profile token:
// OpenSC's pkcs11-tool (its --test run, key generation, signing, decryption), OpenSSL with the
// PKCS#11 engine, GnuTLS's p11tool, graphene-pk11, and node-webcrypto-p11 with pkijs signing an
// X.509 certificate with a non-extractable key — each result checked by openssl.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { MODULE, configure } from './helpers/module.js';
import { hasFile, hasProgram } from './helpers/programs.js';

// Each client is optional on a developer's machine (skipped, naming its package); .ci/run sets
// SEALHSM_REQUIRE_OPTIONAL=1 so a missing one fails there. The token is initialized by pkcs11-tool,
// so the Node clients below need it too.
const opensc = hasProgram('pkcs11-tool', 'opensc') && hasProgram('openssl', 'openssl');
const engine = opensc && hasFile('/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so', 'libengine-pkcs11-openssl');
const gnutls = opensc && hasProgram('p11tool', 'gnutls-bin');

const { conf, base } = configure(['slot $BASE/token profile=pkcs11 label=clients create=true']);
const env = { ...process.env, SEALHSM_PKCS11_CONF: conf };
const PIN = '87654321';
/** Runs a tool; returns stdout and stderr together; a non-zero exit fails with both. */
function tool(cmd: string, args: string[], extra: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...env, ...extra } });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${out}`);
  return out;
}
void execFileSync;
const p11 = (...args: string[]) => tool('pkcs11-tool', ['--module', MODULE, ...args]);
const file = (name: string) => join(base, name);

describe.skipIf(!opensc)('OpenSC pkcs11-tool', () => {
  it('initializes the token, makes keys, and its --test runs to the end with no failure', () => {
    p11('--init-token', '--label', 'clients', '--so-pin', '12345678');
    p11('--init-pin', '--login', '--login-type', 'so', '--so-pin', '12345678', '--pin', PIN);
    p11('--login', '--pin', PIN, '--keypairgen', '--key-type', 'rsa:2048', '--id', '01', '--label', 'rsa-key');
    p11('--login', '--pin', PIN, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', '02', '--label', 'ec-key');
    p11('--login', '--pin', PIN, '--keygen', '--key-type', 'AES:32', '--id', '03', '--label', 'aes-key');
    const out = p11('--test', '--allow-sw', '--session-rw', '--login', '--pin', PIN);
    expect(out).toContain('No errors');
    expect(out).toMatch(/SHA256-RSA-PKCS: OK/);
    // pkcs11-tool probes C_SignUpdate on the single-part RSA mechanisms; the standard (and CloudHSM)
    // make those single-part, so the module answers CKR_FUNCTION_NOT_SUPPORTED and the tool falls back.
    const problems = out.split('\n').filter((l) => /err|fail/i.test(l) && !l.includes('No errors'));
    expect(problems.every((l) => l.includes('C_SignUpdate failed: rv = CKR_FUNCTION_NOT_SUPPORTED'))).toBe(true);
  });

  it('signs and decrypts from the command line; openssl checks both', () => {
    writeFileSync(file('msg'), 'signed on the token\n');
    p11('--login', '--pin', PIN, '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS', '-i', file('msg'), '-o', file('rsa.sig'));
    p11('--read-object', '--type', 'pubkey', '--id', '01', '-o', file('rsa.der'), '--login', '--pin', PIN);
    tool('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', file('rsa.der'), '-out', file('rsa.pem')]);
    expect(tool('openssl', ['dgst', '-sha256', '-verify', file('rsa.pem'), '-signature', file('rsa.sig'), file('msg')])).toContain('Verified OK');
    tool('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', file('rsa.pem'), '-in', file('msg'), '-out', file('msg.enc')]);
    p11('--login', '--pin', PIN, '--decrypt', '--id', '01', '-m', 'RSA-PKCS', '-i', file('msg.enc'), '-o', file('msg.dec'));
    expect(readFileSync(file('msg.dec'), 'utf8')).toBe('signed on the token\n');
  });
});

describe.skipIf(!engine)('OpenSSL with the PKCS#11 engine', () => {
  it('signs with a key on the token; openssl verifies with the exported public key', () => {
    writeFileSync(file('openssl.cnf'), [
      'openssl_conf = openssl_init', '[openssl_init]', 'engines = engine_section', '[engine_section]', 'pkcs11 = pkcs11_section',
      '[pkcs11_section]', 'engine_id = pkcs11', 'dynamic_path = /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so', `MODULE_PATH = ${MODULE}`, 'init = 0', '',
    ].join('\n'));
    tool('openssl', ['dgst', '-sha256', '-binary', '-out', file('msg.sha256'), file('msg')]);
    tool('openssl', ['pkeyutl', '-engine', 'pkcs11', '-keyform', 'engine', '-sign', '-inkey', `pkcs11:token=clients;object=ec-key;type=private;pin-value=${PIN}`,
      '-in', file('msg.sha256'), '-out', file('ec.sig')], { OPENSSL_CONF: file('openssl.cnf') });
    p11('--read-object', '--type', 'pubkey', '--id', '02', '-o', file('ec.der'), '--login', '--pin', PIN);
    const out = tool('openssl', ['pkeyutl', '-verify', '-pubin', '-keyform', 'DER', '-inkey', file('ec.der'), '-sigfile', file('ec.sig'), '-in', file('msg.sha256')]);
    expect(out).toContain('Signature Verified Successfully');
  });
});

describe.skipIf(!gnutls)('GnuTLS p11tool', () => {
  it('lists the token and its objects, generates a key, and signs with it', () => {
    expect(tool('p11tool', ['--provider', MODULE, '--list-tokens'])).toContain('Label: clients');
    const objects = tool('p11tool', ['--provider', MODULE, '--login', '--list-all', 'pkcs11:token=clients'], { GNUTLS_PIN: PIN });
    expect(objects).toContain('Label: rsa-key');
    expect(objects).toContain('Label: ec-key');
    tool('p11tool', ['--provider', MODULE, '--login', '--generate-privkey', 'ecdsa', '--curve', 'secp384r1', '--label', 'gnutls-key', 'pkcs11:token=clients'], { GNUTLS_PIN: PIN });
    const signed = tool('p11tool', ['--provider', MODULE, '--login', '--test-sign', 'pkcs11:token=clients;object=gnutls-key'], { GNUTLS_PIN: PIN });
    expect(signed).toMatch(/Verifying against public key in the token\.\.\. ok/);
  });
});

describe.skipIf(!opensc)('graphene-pk11', () => {
  it('opens a session, makes an EC key pair, signs and verifies', async () => {
    const graphene = await import('graphene-pk11');
    const mod = graphene.Module.load(MODULE, 'sealhsm');
    mod.initialize();
    try {
      const slot = mod.getSlots(0);
      expect(slot.getToken().label.trim()).toBe('clients');
      const session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
      session.login(PIN, graphene.UserType.USER);
      const keys = session.generateKeyPair(graphene.KeyGenMechanism.EC,
        { keyType: graphene.KeyType.EC, token: false, verify: true, paramsEC: graphene.NamedCurve.getByName('secp256r1').value },
        { keyType: graphene.KeyType.EC, token: false, sign: true });
      const data = Buffer.from('graphene');
      const sig = session.createSign('ECDSA_SHA256', keys.privateKey).once(data);
      expect(session.createVerify('ECDSA_SHA256', keys.publicKey).once(data, sig)).toBe(true);
      session.logout();
      session.close();
    } finally {
      mod.finalize();
    }
  });
});

describe.skipIf(!opensc)('node-webcrypto-p11 with pkijs', () => {
  it('signs an X.509 certificate with a non-extractable key on the token; openssl verifies it', async () => {
    const { Crypto } = await import('node-webcrypto-p11');
    const pkijs = await import('pkijs');
    const asn1js = await import('asn1js');
    const crypto = new Crypto({ library: MODULE, name: 'sealhsm', slot: 0, readWrite: true, pin: PIN });
    try {
      const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
      expect(keys.privateKey.extractable).toBe(false);
      const engine = new pkijs.CryptoEngine({ name: 'sealhsm', crypto: crypto as never }); // node-webcrypto-p11's Crypto, as pkijs's engine
      const cert = new pkijs.Certificate();
      cert.version = 2;
      cert.serialNumber = new asn1js.Integer({ value: 1 });
      for (const name of [cert.issuer, cert.subject]) {
        name.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: 'sealhsm test' }) }));
      }
      cert.notBefore.value = new Date(Date.now() - 60_000);
      cert.notAfter.value = new Date(Date.now() + 86_400_000);
      await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
      await cert.sign(keys.privateKey, 'SHA-256', engine);
      const der = Buffer.from(cert.toSchema(true).toBER(false));
      const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
      writeFileSync(file('cert.pem'), pem);
      const out = tool('openssl', ['verify', '-check_ss_sig', '-CAfile', file('cert.pem'), file('cert.pem')]);
      expect(out).toContain(': OK');
    } finally {
      (crypto as unknown as { close?: () => void }).close?.();
    }
  });
});

describe.skipIf(!opensc)('configuration', () => {
  it('the helper prints the module path and a configuration that works', async () => {
    const { pkcs11Config, pkcs11ModulePath } = await import('../src/index.js');
    expect(pkcs11ModulePath()).toBe(MODULE);
    writeFileSync(file('helper.conf'), pkcs11Config([{ dir: file('helper-token'), profile: 'pkcs11', label: 'helper', create: true }]));
    const out = spawnSync('pkcs11-tool', ['--module', MODULE, '--list-slots'], { encoding: 'utf8', env: { ...env, SEALHSM_PKCS11_CONF: file('helper.conf') } });
    expect(out.stdout).toContain("sealhsm pkcs11 token 'helper'");
  });

  it('a wrong configuration fails C_Initialize with a message naming the file and line', () => {
    writeFileSync(file('bad.conf'), '# fine\nslot memory profile=pkcs11\nslot memory profile=softhsm\n');
    const out = spawnSync('pkcs11-tool', ['--module', MODULE, '--list-slots'], { encoding: 'utf8', env: { ...env, SEALHSM_PKCS11_CONF: file('bad.conf') } });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain(`sealhsm-pkcs11: ${file('bad.conf')}:3: unknown profile 'softhsm'`);
  });
});
