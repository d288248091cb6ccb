// test/java_sunpkcs11.test.ts — Java's SunPKCS11 provider over the module (test/java/SunPkcs11Test.java):
// keystore login, RSA and EC key generation, SHA256withRSA / RSASSA-PSS / SHA256withECDSA verified
// by the JDK's own provider, AES/GCM — on a pkcs11 memory slot provisioned with a users file.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { pkcs11Config, pkcs11Provisioning } from '../src/index.js';
import { MODULE, configure } from './helpers/module.js';
import { hasProgram } from './helpers/programs.js';

const jdk = hasProgram('javac', 'openjdk-17-jdk-headless');

describe.skipIf(!jdk)('Java SunPKCS11', () => {
  it('logs in, generates RSA and EC keys, signs for the default provider, and runs AES/GCM', () => {
    const { base, conf } = configure(['slot memory profile=pkcs11']);
    const users = join(base, 'users.txt');
    writeFileSync(users, pkcs11Provisioning([{ name: 'so', password: 'so-pin-0000', role: 'admin' }, { name: 'user', password: 'user-pin-0' }]));
    writeFileSync(conf, pkcs11Config([{ dir: 'memory', profile: 'pkcs11', label: 'java', usersFile: users }]));
    const cfg = join(base, 'sunpkcs11.cfg');
    writeFileSync(cfg, `name = sealhsm\nlibrary = ${MODULE}\nslot = 1\n`);
    const source = fileURLToPath(new URL('./java/SunPkcs11Test.java', import.meta.url));
    let out: string;
    try {
      out = execFileSync('java', [source, cfg, 'user-pin-0'], { encoding: 'utf8', env: { ...process.env, SEALHSM_PKCS11_CONF: conf }, timeout: 120_000 });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout);
    }
    expect(out.split('\n').filter((l) => l.startsWith('not ok'))).toEqual([]);
    expect(out).toMatch(/^6 passed, 0 failed$/m);
  }, 180_000);
});
