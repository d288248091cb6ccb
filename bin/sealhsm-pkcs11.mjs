#!/usr/bin/env node
// sealhsm-pkcs11 <token-dir | memory> [profile] — prints the module path and a ready configuration.
//   npx sealhsm-pkcs11 /var/lib/myapp/token cloudhsm > /etc/sealhsm-pkcs11.conf
//   export SEALHSM_PKCS11_CONF=/etc/sealhsm-pkcs11.conf
import { pkcs11Config, pkcs11ModulePath } from '../dist/index.js';

const [dir, profile = 'pkcs11'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: sealhsm-pkcs11 <token-dir | memory> [cloudhsm | cloudhsm-fips | cloudhsm-hsm1 | pkcs11]');
  process.exit(2);
}
process.stdout.write(`# module: ${pkcs11ModulePath()}\n${pkcs11Config([{ dir, profile, create: dir !== 'memory' }])}`);
