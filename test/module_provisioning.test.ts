// test/module_provisioning.test.ts
// A CloudHSM-profile memory slot a program can use by only loading the module (issue: the stand-in
// holds under other people's suites): users come from a provisioning file of salted scrypt
// verifiers (users=<file>, written by pkcs11Provisioning), with no password on disk.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { pkcs11Config, pkcs11Provisioning } from '../src/index.js';
import { attrs, configure, openModule, pkcs11js, rvOf } from './helpers/module.js';

const { base, conf } = configure(['slot memory profile=pkcs11']);
const users = join(base, 'users.txt');
writeFileSync(users, pkcs11Provisioning([{ name: 'admin', password: 'admin-password', role: 'admin' }, { name: 'cu1', password: 'cu1-password' }]));
writeFileSync(conf, pkcs11Config([{ dir: 'memory', profile: 'cloudhsm', label: 'provisioned', usersFile: users }]));
const p11 = openModule();
afterAll(() => p11.C_Finalize());
const [slot] = p11.C_GetSlotList(true) as [Buffer];

describe('a provisioned memory slot', () => {
  it('the file holds verifiers, never the passwords', () => {
    const text = readFileSync(users, 'utf8');
    expect(text).toMatch(/^cu1 crypto-user scrypt 16384 8 1 [0-9a-f]{32} [0-9a-f]{64}$/m);
    expect(text).not.toContain('cu1-password');
    expect(text).not.toContain('admin-password');
  });

  it('is activated and lets the crypto user log in and make keys, with nothing but the module loaded', () => {
    expect(p11.C_GetTokenInfo(slot).flags & 0x400).toBe(0x400); // CKF_TOKEN_INITIALIZED
    const s = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    expect(rvOf(() => p11.C_Login(s, pkcs11js.CKU_USER, 'cu1:wrong-password'))).toBe('CKR_PIN_INCORRECT');
    p11.C_Login(s, pkcs11js.CKU_USER, 'cu1:cu1-password');
    const key = p11.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, attrs([[pkcs11js.CKA_VALUE_LEN, 32], [pkcs11js.CKA_ENCRYPT, true]]));
    expect(key).toBeDefined();
    p11.C_Logout(s);
    p11.C_Login(s, pkcs11js.CKU_SO, 'admin:admin-password');
    p11.C_Logout(s);
    p11.C_CloseSession(s);
  });
});
