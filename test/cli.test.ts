// test/cli.test.ts — the `sealhsm` command, run as the real binary (bin/sealhsm.mjs over dist/):
// every command's --help, cloudhsm-cli's JSON and exit codes, and each command doing its work.

import { spawnSync } from 'node:child_process';
import { createPublicKey, createHash, verify as verifySig, constants } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { MODULE, pkcs11js } from './helpers/module.js';

const BIN = fileURLToPath(new URL('../bin/sealhsm.mjs', import.meta.url));
const base = mkdtempSync(join(tmpdir(), 'sealhsm-cli-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Run { code: number; out: string; err: string; json: { error_code: number; data: any } }
function cli(args: string[], env: Record<string, string> = {}, input?: string): Run {
  // The caller's environment minus sealhsm's own variables (a sanitizer run's preload passes through).
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SEALHSM_(?!REQUIRE)|CLOUDHSM_)/.test(k)));
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, env: { ...inherited, HOME: base, ...env } });
  let json: Run['json'];
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = { error_code: -1, data: undefined };
  }
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, json };
}

const ADMIN = { SEALHSM_ADMIN_PASSWORD: 'admin-password' };
const dirOf = (name: string) => join(base, name);

/** A token with crypto users alice (and bob); returns the env that logs alice in. */
function token(name: string, profile = 'cloudhsm'): { dir: string; alice: Record<string, string>; admin: Record<string, string> } {
  const dir = dirOf(name);
  const init = cli(['init', '--dir', dir, '--profile', profile, '--crypto-user', profile === 'pkcs11' ? 'user' : 'alice'], { ...ADMIN, SEALHSM_PASSWORD: 'alice-password' });
  expect(init.code, init.out + init.err).toBe(0);
  const adminName = profile === 'pkcs11' ? 'so' : 'admin';
  return { dir, alice: { SEALHSM_TOKEN: dir, SEALHSM_PIN: `${profile === 'pkcs11' ? 'user' : 'alice'}:alice-password` }, admin: { SEALHSM_TOKEN: dir, SEALHSM_PIN: `${adminName}:admin-password` } };
}

const COMMANDS = [
  [], ['cluster'], ['cluster', 'activate'], ['cluster', 'hsm-info'], ['login'], ['logout'], ['init'], ['pkcs11'], ['pkcs11', 'path'], ['pkcs11', 'conf'],
  ['user'], ['user', 'list'], ['user', 'create'], ['user', 'delete'], ['user', 'change-password'],
  ['key'], ['key', 'generate-symmetric', 'aes'], ['key', 'generate-symmetric', 'generic-secret'], ['key', 'generate-asymmetric-pair', 'rsa'],
  ['key', 'generate-asymmetric-pair', 'ec'], ['key', 'list'], ['key', 'delete'], ['key', 'share'], ['key', 'unshare'], ['key', 'set-attribute'],
  ['key', 'import', 'pem'], ['key', 'generate-file'], ['key', 'wrap', 'aes-gcm'], ['key', 'wrap', 'rsa-oaep'], ['key', 'unwrap', 'aes-pkcs5-pad'],
  ['crypto', 'sign', 'ecdsa'], ['crypto', 'sign', 'ed25519'], ['crypto', 'verify', 'rsa-pkcs-pss'], ['interactive'], ['bench'],
  ['token'], ['token', 'accept-rollback'], ['token', 'unlock'],
];

describe('sealhsm --help', () => {
  it.each(COMMANDS.map((c) => [c.join(' ') || '(top)', c] as const))('%s', (_n, c) => {
    const r = cli([...c, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Usage: sealhsm${c.length ? ` ${c.join(' ')}` : ''}`);
  });
});

describe('exit codes and cloudhsm-cli JSON', () => {
  it('no token 4, not logged in 3, usage 2, an HSM refusal 1 with the CKR code', () => {
    expect(cli(['key', 'list']).code).toBe(4);
    expect(cli(['key', 'list']).json.data.error).toBe('SEALHSM_NO_TOKEN');
    const t = token('codes');
    const notIn = cli(['key', 'list', '--dir', t.dir]);
    expect([notIn.code, notIn.json.data.error]).toEqual([3, 'CKR_USER_NOT_LOGGED_IN']);
    expect(cli(['key', 'list', '--bogus'], t.alice).code).toBe(2);
    expect(cli(['key'], t.alice).code).toBe(2);
    expect(cli(['key', 'generate-symmetric', 'aes', '--label', 'x', '--key-length-bytes', 'many'], t.alice).code).toBe(2);
    const wrongPin = cli(['key', 'list'], { ...t.alice, SEALHSM_PIN: 'alice:wrong-password' });
    expect([wrongPin.code, wrongPin.json.error_code, wrongPin.json.data.error]).toEqual([1, 0xa0, 'CKR_PIN_INCORRECT']);
    const bad = cli(['key', 'generate-asymmetric-pair', 'rsa', '--public-label', 'p', '--private-label', 's', '--modulus-size-bits', '1024'], t.alice);
    expect(bad.code).toBe(1);
    expect(bad.json.error_code).not.toBe(0);
    expect(bad.json.data.error).toBe('CKR_KEY_SIZE_RANGE');
    expect(cli(['key', 'generate-symmetric', 'aes', '--label', 'x', '--key-length-bytes', '20'], t.alice).code).toBe(2);
    expect(cli(['user', 'create', '--username', 'carol', '--role', 'crypto-user'], { ...t.alice, SEALHSM_NEW_PASSWORD: 'carol-password' }).json.data.error).toBe('CKR_USER_TYPE_INVALID');
  });
});

describe('cluster, users, pkcs11', () => {
  it('cluster activate makes and activates a token; hsm-info needs no login; init refuses an existing token', () => {
    const dir = dirOf('activate');
    const a = cli(['cluster', 'activate', '--dir', dir, '--profile', 'pkcs11'], ADMIN);
    expect(a.json).toEqual({ error_code: 0, data: 'Cluster activation successful' });
    expect(cli(['cluster', 'activate', '--dir', dir], ADMIN).code).toBe(1);
    const info = cli(['cluster', 'hsm-info', '--dir', dir]);
    expect(info.json.data.hsms[0]).toMatchObject({ profile: 'pkcs11', state: 'activated', users: 1 });
    expect(cli(['init', '--dir', dir, '--crypto-user', 'x'], { ...ADMIN, SEALHSM_PASSWORD: 'p-password' }).json.data.error).toBe('SEALHSM_TOKEN_EXISTS');
  });

  it('user create, list, change-password and delete as the admin; a password on the command line warns', () => {
    const t = token('users');
    const created = cli(['user', 'create', '--username', 'bob', '--role', 'crypto-user', '--password', 'bob-password-1'], t.admin);
    expect(created.code).toBe(0);
    expect(created.err).toContain('warning: a password on the command line is visible');
    const list = cli(['user', 'list'], { SEALHSM_TOKEN: t.dir });
    expect(list.json.data.users.map((u: { username: string }) => u.username).sort()).toEqual(['admin', 'alice', 'bob']);
    expect(cli(['user', 'list', '--output', 'text'], { SEALHSM_TOKEN: t.dir }).out).toMatch(/bob\s+│ crypto-user/);
    expect(cli(['user', 'change-password', '--username', 'bob', '--role', 'crypto-user'], { ...t.admin, SEALHSM_NEW_PASSWORD: 'bob-password-2' }).code).toBe(0);
    expect(cli(['key', 'list'], { SEALHSM_TOKEN: t.dir, SEALHSM_PIN: 'bob:bob-password-2' }).code).toBe(0);
    expect(cli(['user', 'delete', '--username', 'bob', '--role', 'crypto-user'], t.admin).code).toBe(0);
    expect(cli(['user', 'list'], { SEALHSM_TOKEN: t.dir }).json.data.users).toHaveLength(2);
  });

  it('init writes the PKCS#11 configuration; a program loading the module logs in with CloudHSM\'s user:password PIN', () => {
    const dir = dirOf('p11');
    const conf = join(base, 'p11.conf');
    const r = cli(['init', '--dir', dir, '--crypto-user', 'svc', '--pkcs11-conf', conf], { ...ADMIN, SEALHSM_PASSWORD: 'svc-password' });
    expect(r.json.data).toMatchObject({ 'crypto-user': 'svc', 'pkcs11-conf': conf, 'pkcs11-module': MODULE });
    expect(readFileSync(conf, 'utf8')).toContain(`slot ${dir} profile=cloudhsm`);
    expect(cli(['pkcs11', 'path']).json.data).toBe(MODULE);
    expect(cli(['pkcs11', 'conf', '--dir', 'memory']).json.data['pkcs11-config']).toContain('slot memory profile=pkcs11');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import pkcs11js from 'pkcs11js';
      const p = new pkcs11js.PKCS11(); p.load(${JSON.stringify(MODULE)}); p.C_Initialize();
      const s = p.C_OpenSession(p.C_GetSlotList(true)[0], pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      p.C_Login(s, pkcs11js.CKU_USER, 'svc:svc-password'); console.log('logged in'); p.C_Finalize();`],
    { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, SEALHSM_PKCS11_CONF: conf } });
    expect(child.stdout + child.stderr).toContain('logged in');
    void pkcs11js;
  });
});

describe('keys and crypto', () => {
  it('generates, lists (filters, pages, verbose), sets attributes, shares, deletes', () => {
    const t = token('keys');
    cli(['user', 'create', '--username', 'bob', '--role', 'crypto-user'], { ...t.admin, SEALHSM_NEW_PASSWORD: 'bob-password' });
    const aes = cli(['key', 'generate-symmetric', 'aes', '--label', 'data', '--key-length-bytes', '32', '--attributes', 'extractable=false', 'id=0x0102'], t.alice);
    expect(aes.json.data.key.attributes).toMatchObject({ 'key-type': 'aes', label: 'data', 'key-length-bytes': 32, extractable: false, id: '0x0102', token: true });
    expect(cli(['key', 'generate-symmetric', 'generic-secret', '--label', 'mac', '--key-length-bytes', '48'], t.alice).json.data.key.attributes['key-type']).toBe('generic-secret');
    const rsa = cli(['key', 'generate-asymmetric-pair', 'rsa', '--public-label', 'rsa-pub', '--private-label', 'rsa-priv', '--modulus-size-bits', '2048', '--share-crypto-users', 'bob'], t.alice);
    expect(rsa.json.data.private_key['key-info']['shared-users']).toEqual([{ username: 'bob', 'key-coverage': 'full' }]);
    expect(rsa.json.data.public_key.attributes).toMatchObject({ label: 'rsa-pub', 'modulus-size-bits': 2048 });
    cli(['key', 'generate-asymmetric-pair', 'ec', '--public-label', 'ed-pub', '--private-label', 'ed-priv', '--curve', 'ed25519'], t.alice);
    cli(['key', 'generate-asymmetric-pair', 'ec', '--public-label', 'ec-pub', '--private-label', 'ec-priv', '--curve', 'prime256v1', '--session'], t.alice);

    const all = cli(['key', 'list', '--max-items', '0'], t.alice).json.data;
    expect(all.total_key_count).toBe(6);
    expect(all.matched_keys[0]).toEqual({ 'key-reference': expect.stringMatching(/^0x[0-9a-f]{16}$/), attributes: { label: expect.any(String) } });
    const page1 = cli(['key', 'list', '--max-items', '4'], t.alice).json.data;
    expect([page1.returned_key_count, typeof page1.next_token]).toEqual([4, 'string']);
    const page2 = cli(['key', 'list', '--max-items', '4', '--starting-token', page1.next_token], t.alice).json.data;
    expect([page2.returned_key_count, page2.next_token]).toEqual([2, undefined]);
    const priv = cli(['key', 'list', '--filter', 'attr.class=private-key', '--verbose'], t.alice).json.data.matched_keys;
    expect(priv.map((k: any) => k.attributes.label).sort()).toEqual(['ed-priv', 'rsa-priv']);
    expect(cli(['key', 'list', '--filter', 'attr.colour=red'], t.alice).code).toBe(2);

    expect(cli(['key', 'set-attribute', '--filter', 'attr.label=data', '--name', 'label', '--value', 'data-2'], t.alice).code).toBe(0);
    expect(cli(['key', 'list', '--filter', 'attr.label=data-2'], t.alice).json.data.total_key_count).toBe(1);
    expect(cli(['key', 'set-attribute', '--filter', 'attr.label=data-2', '--name', 'trusted', '--value', 'true'], t.alice).json.data.error).toMatch(/^CKR_/);
    const bobSees = { SEALHSM_TOKEN: t.dir, SEALHSM_PIN: 'bob:bob-password' };
    expect(cli(['key', 'list', '--filter', 'attr.label=rsa-priv'], bobSees).json.data.total_key_count).toBe(1);
    expect(cli(['key', 'unshare', '--filter', 'attr.label=rsa-priv', '--username', 'bob', '--role', 'crypto-user'], t.alice).code).toBe(0);
    expect(cli(['key', 'list', '--filter', 'attr.label=rsa-priv'], bobSees).json.data.total_key_count).toBe(0);
    expect(cli(['key', 'share', '--filter', 'attr.label=rsa-priv', '--username', 'bob', '--role', 'crypto-user'], t.alice).code).toBe(0);
    expect(cli(['key', 'delete', '--filter', 'attr.label=rsa-priv'], bobSees).json.data.error).toBe('CKR_ACTION_PROHIBITED');
    expect(cli(['key', 'delete', '--filter', 'attr.key-type=rsa'], t.alice).json.data.error).toBe('SEALHSM_AMBIGUOUS_FILTER');
    expect(cli(['key', 'delete', '--filter', 'attr.label=rsa-priv'], t.alice).json.data.message).toBe('Key deleted successfully');
    expect(cli(['key', 'list', '--filter', 'attr.label=rsa-priv'], t.alice).json.data.total_key_count).toBe(0);
  });

  it('imports a PEM public key, writes a public key file, and signs and verifies with every mechanism', () => {
    const t = token('crypto');
    cli(['key', 'generate-asymmetric-pair', 'rsa', '--public-label', 'rp', '--private-label', 'rs', '--modulus-size-bits', '2048'], t.alice);
    cli(['key', 'generate-asymmetric-pair', 'ec', '--public-label', 'ep', '--private-label', 'es', '--curve', 'secp384r1'], t.alice);
    cli(['key', 'generate-asymmetric-pair', 'ec', '--public-label', 'dp', '--private-label', 'ds', '--curve', 'ed25519'], t.alice);
    const pem = join(base, 'rp.pem');
    expect(cli(['key', 'generate-file', '--encoding', 'pem', '--path', pem, '--filter', 'attr.label=rp'], t.alice).code).toBe(0);
    const imported = cli(['key', 'import', 'pem', '--path', pem, '--label', 'rp-copy', '--key-type-class', 'rsa-public'], t.alice);
    expect(imported.json.data.key.attributes).toMatchObject({ class: 'public-key', 'key-type': 'rsa', label: 'rp-copy' });
    expect(cli(['key', 'import', 'pem', '--path', pem, '--label', 'x', '--key-type-class', 'ec-public'], t.alice).json.data.error).toBe('CKR_TEMPLATE_INCONSISTENT');

    const data = Buffer.from('sign me on the command line');
    const dataFile = join(base, 'data.bin');
    writeFileSync(dataFile, data);
    const pub = createPublicKey(readFileSync(pem));
    const sign = (mech: string, label: string, extra: string[] = []) => cli(['crypto', 'sign', mech, '--key-filter', `attr.label=${label}`, ...extra], t.alice);
    const verify = (mech: string, label: string, sig: string, extra: string[] = []) => cli(['crypto', 'verify', mech, '--key-filter', `attr.label=${label}`, '--signature', sig, ...extra], t.alice);

    const pkcs = sign('rsa-pkcs', 'rs', ['--hash-function', 'sha256', '--data-path', dataFile]).json.data.signature;
    expect(verifySig('sha256', data, pub, Buffer.from(pkcs, 'base64'))).toBe(true);
    const digest = createHash('sha256').update(data).digest();
    const pkcsDigest = sign('rsa-pkcs', 'rs', ['--hash-function', 'sha256', '--data', digest.toString('base64'), '--data-type', 'digest']).json.data.signature;
    expect(pkcsDigest).toBe(pkcs);
    const pss = sign('rsa-pkcs-pss', 'rs', ['--hash-function', 'sha384', '--data-path', dataFile]).json.data.signature;
    expect(verifySig('sha384', data, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, Buffer.from(pss, 'base64'))).toBe(true);
    expect(verify('rsa-pkcs-pss', 'rp', pss, ['--hash-function', 'sha384', '--data-path', dataFile]).json.data.message).toBe('Signature verified successfully');
    const ecdsa = sign('ecdsa', 'es', ['--hash-function', 'sha384', '--data', data.toString('base64')]).json.data.signature;
    expect(verify('ecdsa', 'ep', ecdsa, ['--hash-function', 'sha384', '--data', data.toString('base64')]).code).toBe(0);
    const ed = sign('ed25519', 'ds', ['--data', data.toString('base64')]).json.data.signature;
    expect(verify('ed25519', 'dp', ed, ['--data', data.toString('base64')]).code).toBe(0);
    const tampered = verify('ed25519', 'dp', ed, ['--data', Buffer.from('other').toString('base64')]);
    expect([tampered.code, tampered.json.data.error]).toEqual([1, 'CKR_SIGNATURE_INVALID']);
    expect(sign('ecdsa', 'es', ['--hash-function', 'md5', '--data', 'AA==']).code).toBe(2);
    expect(sign('ecdsa', 'es', ['--hash-function', 'sha256']).code).toBe(2);
  });

  it('wraps and unwraps with aes-pkcs5-pad, aes-gcm, rsa-oaep and rsa-aes', () => {
    const t = token('wrap');
    cli(['key', 'generate-symmetric', 'aes', '--label', 'kek', '--key-length-bytes', '32', '--attributes', 'wrap=true', 'unwrap=true'], t.alice);
    cli(['key', 'generate-symmetric', 'aes', '--label', 'payload', '--key-length-bytes', '16', '--attributes', 'extractable=true'], t.alice);
    cli(['key', 'generate-asymmetric-pair', 'rsa', '--public-label', 'rwp', '--private-label', 'rws', '--modulus-size-bits', '2048', '--public-attributes', 'wrap=true', '--private-attributes', 'unwrap=true'], t.alice);
    for (const [mech, wrapping, unwrapping] of [['aes-pkcs5-pad', 'kek', 'kek'], ['aes-gcm', 'kek', 'kek'], ['rsa-oaep', 'rwp', 'rws'], ['rsa-aes', 'rwp', 'rws']] as const) {
      const file = join(base, `${mech}.bin`);
      const w = cli(['key', 'wrap', mech, '--payload-filter', 'attr.label=payload', '--wrapping-filter', `attr.label=${wrapping}`, '--path', file], t.alice);
      expect(w.code, w.out).toBe(0);
      expect(readFileSync(file).toString('base64')).toBe(w.json.data.wrapped_key_data);
      const u = cli(['key', 'unwrap', mech, '--filter', `attr.label=${unwrapping}`, '--key-type-class', 'aes', '--label', `back-${mech}`, '--data-path', file, '--attributes', 'encrypt=true'], t.alice);
      expect(u.code, u.out).toBe(0);
      expect(u.json.data.key.attributes).toMatchObject({ 'key-type': 'aes', label: `back-${mech}`, 'key-length-bytes': 16, local: false });
    }
    const corrupt = cli(['key', 'unwrap', 'aes-gcm', '--filter', 'attr.label=kek', '--key-type-class', 'aes', '--label', 'x', '--data', Buffer.alloc(40, 1).toString('base64')], t.alice);
    expect(corrupt.json.data.error).toMatch(/^CKR_/);
  });
});

describe('CloudHSM CLI fidelity', () => {
  it('a key made with --unwrap-template forces those attributes on what it unwraps (AWS\'s unwrap_with_template)', () => {
    const t = token('unwrap-template');
    const kek = cli(['key', 'generate-symmetric', 'aes', '--label', 'tkek', '--key-length-bytes', '32', '--attributes', 'wrap=true', 'unwrap=true',
      '--unwrap-template', 'extractable=false', 'decrypt=true'], t.alice);
    expect(kek.code, kek.out + kek.err).toBe(0);
    cli(['key', 'generate-symmetric', 'aes', '--label', 'tpayload', '--key-length-bytes', '16', '--attributes', 'extractable=true'], t.alice);
    const file = join(base, 'template.bin');
    expect(cli(['key', 'wrap', 'aes-pkcs5-pad', '--payload-filter', 'attr.label=tpayload', '--wrapping-filter', 'attr.label=tkek', '--path', file], t.alice).code).toBe(0);
    const u = cli(['key', 'unwrap', 'aes-pkcs5-pad', '--filter', 'attr.label=tkek', '--key-type-class', 'aes', '--label', 'tback', '--data-path', file], t.alice);
    expect(u.code, u.out).toBe(0);
    expect(u.json.data.key.attributes).toMatchObject({ extractable: false, decrypt: true });
  });

  it('user create reads the new password from SEALHSM_PASSWORD as init does; every --help lists --output', () => {
    const t = token('password-names');
    const made = cli(['user', 'create', '--username', 'carol', '--role', 'crypto-user'], { ...t.admin, SEALHSM_PASSWORD: 'carol-password' });
    expect(made.code, made.out + made.err).toBe(0);
    expect(cli(['key', 'list'], { SEALHSM_TOKEN: t.dir, SEALHSM_PIN: 'carol:carol-password' }).code).toBe(0);
    for (const c of [['pkcs11', 'conf'], ['key', 'list'], ['token', 'unlock']]) expect(cli([...c, '--help']).out).toContain('--output <format>');
  });
});

describe('sealhsm interactive', () => {
  it('keeps the login across lines, answers help, and stops at quit', () => {
    const t = token('interactive');
    const script = ['key list', 'login --username alice --role crypto-user', 'key generate-symmetric aes --label "two words" --key-length-bytes 16', 'key list --output text',
      'help', 'logout', 'key list', 'quit', 'key list'].join('\n');
    const r = cli(['interactive', '--dir', t.dir], { SEALHSM_PASSWORD: 'alice-password' }, script);
    expect(r.code).toBe(0);
    const outputs = r.out;
    expect(outputs).toContain('"error": "CKR_USER_NOT_LOGGED_IN"');
    expect(outputs).toContain('"username": "alice"');
    expect(outputs).toMatch(/│ two words │/);
    expect(outputs).toContain('Usage: sealhsm');
    expect(outputs).toContain('"data": "Logout successful"');
    expect(outputs.match(/CKR_USER_NOT_LOGGED_IN/g)).toHaveLength(2);
  });
});

describe('sealhsm token accept-rollback', () => {
  it('a token.db put back from an older copy is refused until the admin accepts it, and the act is logged', () => {
    const t = token('rollback');
    expect(cli(['key', 'generate-symmetric', 'aes', '--label', 'before', '--key-length-bytes', '32'], t.alice).code).toBe(0);
    const old = join(base, 'rollback-old.db');
    spawnSync('sqlite3', [join(t.dir, 'token.db'), `VACUUM INTO '${old}'`]);
    expect(cli(['key', 'generate-symmetric', 'aes', '--label', 'after', '--key-length-bytes', '32'], t.alice).code).toBe(0);
    rmSync(join(t.dir, 'token.db-wal'), { force: true });
    writeFileSync(join(t.dir, 'token.db'), readFileSync(old));
    const refused = cli(['key', 'list'], t.alice);
    expect(refused.code).not.toBe(0);
    expect(JSON.stringify(refused.json.data)).toMatch(/was acknowledged.*sealhsm token accept-rollback/);
    expect(cli(['token', 'accept-rollback', '--dir', t.dir], { SEALHSM_ADMIN_PASSWORD: 'wrong-password' }).json.data.error).toBe('CKR_PIN_INCORRECT');
    const ok = cli(['token', 'accept-rollback', '--dir', t.dir], ADMIN);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.json.data).toMatchObject({ accepted: true, by: 'admin' });
    expect(readFileSync(join(t.dir, 'operator.log'), 'utf8')).toContain('admin accepted generation');
    // Alice's objects went back too, and only her key vouches for them: she accepts them herself.
    const hers = cli(['key', 'list'], t.alice);
    expect(JSON.stringify(hers.json.data)).toMatch(/objects of user 'alice'.*accept-rollback --username alice/);
    const mine = cli(['token', 'accept-rollback', '--dir', t.dir, '--username', 'alice'], { SEALHSM_PASSWORD: 'alice-password' });
    expect(mine.json.data, mine.out + mine.err).toMatchObject({ accepted: true, by: 'alice' });
    expect(readFileSync(join(t.dir, 'operator.log'), 'utf8')).toMatch(/alice accepted generation \d+ of user 'alice''s objects/);
    const list = cli(['key', 'list'], t.alice);
    expect(list.code, list.out + list.err).toBe(0);
    expect(JSON.stringify(list.json.data)).toContain('before');
    expect(JSON.stringify(list.json.data)).not.toContain('"after"');
  });
});

describe('sealhsm token migrate', () => {
  it('rewrites a format-2 token with a passwords file; without one it says what it needs', () => {
    const dir = join(base, 'format2');
    cpSync(join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'format2', 'cloudhsm'), dir, { recursive: true });
    const refused = cli(['key', 'list'], { SEALHSM_TOKEN: dir, SEALHSM_PIN: 'alice:alice-password' });
    expect(JSON.stringify(refused.json.data)).toMatch(/sealhsm token migrate --dir/);
    const usage = cli(['token', 'migrate', '--dir', dir]);
    expect([usage.code, usage.json.data.error]).toEqual([2, 'SEALHSM_USAGE']);
    const file = join(base, 'format2-passwords');
    writeFileSync(file, 'admin:admin-password\nalice:alice-password\nbob:bob-password\n', { mode: 0o600 });
    const ok = cli(['token', 'migrate', '--dir', dir, '--passwords-file', file]);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.json.data).toMatchObject({ migrated: true, formerToken: `${dir}.format2` });
    const list = cli(['key', 'list'], { SEALHSM_TOKEN: dir, SEALHSM_PIN: 'alice:alice-password' });
    expect(list.code, list.out + list.err).toBe(0);
    expect(JSON.stringify(list.json.data)).toContain('alice-aes');
  });
});

describe('sealhsm token unlock', () => {
  it('the sole admin, locked by guesses, is unlocked with its own password where the token is', () => {
    const t = token('locked-admin');
    const login = (pw: string) => cli(['login', '--username', 'admin', '--role', 'admin'], { SEALHSM_TOKEN: t.dir, SEALHSM_PASSWORD: pw });
    for (let i = 0; i < 6; i++) expect(login('a-wrong-guess').code).not.toBe(0);
    expect(login('admin-password').code).not.toBe(0); // locked
    const ok = cli(['token', 'unlock', '--dir', t.dir, '--username', 'admin'], { SEALHSM_PASSWORD: 'admin-password' });
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.json.data).toMatchObject({ unlocked: 'admin' });
    expect(login('admin-password').code).toBe(0);
    expect(readFileSync(join(t.dir, 'operator.log'), 'utf8')).toContain('admin unlocked offline');
  });
});
