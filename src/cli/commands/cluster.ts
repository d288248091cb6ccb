// src/cli/commands/cluster.ts
//
// cluster activate / hsm-info, login / logout, and what test suites need in one line: `init` (a new
// token, activated, with a crypto user and the PKCS#11 module configuration for it) and `pkcs11
// conf|path`.

import { writeFileSync } from 'node:fs';

import type { Command } from 'commander';

import { PROFILES, type ProfileName } from '../../client/hsm.js';
import { native } from '../../native/binding.js';
import { pkcs11Config, pkcs11ModulePath } from '../../pkcs11/module.js';
import { CliError, EXIT, NEW_PASSWORD_VARIABLES, type Runtime } from '../runtime.js';
import { action, table } from './common.js';

const adminName = (profile: string): string => (profile === 'pkcs11' ? 'so' : 'admin');

export function registerCluster(program: Command, rt: Runtime): void {
  const cluster = program.command('cluster').description('activate the token, or describe it');
  cluster.command('activate')
    .description('set the admin password of a new token (creating the token with --profile if the directory has none)')
    .option('--password <password>', 'the admin password (else SEALHSM_ADMIN_PASSWORD, else a prompt)')
    .option('--profile <profile>', `for a new token: ${PROFILES.join(', ')}`, 'cloudhsm')
    .option('--label <label>', 'for a new token: its label')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.token(g, { profile: o.profile as string, ...(o.label !== undefined && { label: o.label as string }) });
      await hsm.activate(await rt.password(o.password as string | undefined, 'SEALHSM_ADMIN_PASSWORD', 'New admin password:'));
      return { data: 'Cluster activation successful', text: `activated the ${hsm.profile} token in ${rt.tokenDir(g)}` };
    }));
  cluster.command('hsm-info')
    .description('the token: label, profile, state, users and objects (no login needed)')
    .action(action(rt, async (g) => {
      const hsm = await rt.token(g);
      const info = native.tokenInfo(hsm.slot);
      const data = {
        hsms: [{
          vendor: 'sealhsm', model: `sealhsm ${hsm.profile}`, label: hsm.label, profile: hsm.profile, directory: rt.tokenDir(g),
          state: hsm.activated ? 'activated' : 'uninitialized', users: hsm.users.list().length, objects: info.objects,
          mechanisms: hsm.mechanisms().length,
        }],
      };
      return { data, text: table(['label', 'profile', 'state', 'users', 'mechanisms'], [[hsm.label, hsm.profile, data.hsms[0]!.state, data.hsms[0]!.users, data.hsms[0]!.mechanisms]]) };
    }));

  program.command('login')
    .description('log in (kept for the rest of an interactive session; single commands read SEALHSM_PIN)')
    .requiredOption('--username <name>')
    .requiredOption('--role <role>', 'admin or crypto-user')
    .option('--password <password>', 'else SEALHSM_PASSWORD, else a prompt')
    .action(action(rt, async (g, o) => {
      if (o.role !== 'admin' && o.role !== 'crypto-user') throw new CliError('SEALHSM_USAGE', '--role is admin or crypto-user', EXIT.usage);
      const hsm = await rt.token(g);
      const who = await hsm.login(o.username as string, await rt.password(o.password as string | undefined, 'SEALHSM_PASSWORD', `Password for ${String(o.username)}:`));
      if (who.role !== o.role) {
        hsm.logout();
        throw new CliError('CKR_USER_TYPE_INVALID', `${who.username} is a${who.role === 'admin' ? 'n admin' : ' crypto user'}, not a${o.role === 'admin' ? 'n admin' : ' crypto user'}`);
      }
      return { data: { username: who.username, role: who.role }, text: `logged in as ${who.username} (${who.role})` };
    }));
  program.command('logout')
    .description('log out')
    .action(action(rt, async (g) => {
      (await rt.token(g)).logout();
      return { data: 'Logout successful', text: 'logged out' };
    }));

  program.command('init')
    .description('a new token in one step: created, activated, a crypto user, and the PKCS#11 module configuration for it (passwords: SEALHSM_ADMIN_PASSWORD, and SEALHSM_NEW_PASSWORD or SEALHSM_PASSWORD for the crypto user, as user create reads them)')
    .option('--profile <profile>', PROFILES.join(', '), 'cloudhsm')
    .option('--label <label>', 'the token label', 'sealhsm')
    .option('--crypto-user <name>', "the crypto user to create ('user' on the pkcs11 profile)")
    .option('--pkcs11-conf <file>', 'write the module configuration here (printed otherwise)')
    .action(action(rt, async (g, o) => {
      const profile = o.profile as ProfileName;
      const user = (o.cryptoUser as string | undefined) ?? (profile === 'pkcs11' ? 'user' : undefined);
      if (user === undefined) throw new CliError('SEALHSM_USAGE', '--crypto-user <name> is required', EXIT.usage);
      const dir = rt.tokenDir(g);
      if ((await import('node:fs')).existsSync(`${dir}/token.db`)) throw new CliError('SEALHSM_TOKEN_EXISTS', `${dir} already holds a token`);
      const adminPassword = await rt.password(undefined, 'SEALHSM_ADMIN_PASSWORD', 'New admin password:');
      const userPassword = await rt.password(undefined, NEW_PASSWORD_VARIABLES, `Password for ${user}:`);
      const hsm = await rt.token(g, { profile, label: o.label as string });
      await hsm.activate(adminPassword);
      await hsm.login(adminName(profile), adminPassword);
      await hsm.users.create(user, userPassword);
      hsm.logout();
      const conf = pkcs11Config([{ dir, profile, label: o.label as string }]);
      if (o.pkcs11Conf !== undefined) writeFileSync(o.pkcs11Conf as string, conf);
      const data = { directory: dir, profile, admin: adminName(profile), 'crypto-user': user, 'pkcs11-module': pkcs11ModulePath(), ...(o.pkcs11Conf !== undefined ? { 'pkcs11-conf': o.pkcs11Conf } : { 'pkcs11-config': conf }) };
      const text = [`token ${dir} (${profile}) activated; crypto user ${user}`, `module: ${pkcs11ModulePath()}`,
        o.pkcs11Conf !== undefined ? `configuration: ${String(o.pkcs11Conf)} (export SEALHSM_PKCS11_CONF=${String(o.pkcs11Conf)})` : conf].join('\n');
      return { data, text };
    }));

  const p11 = program.command('pkcs11').description('the PKCS#11 module: where it is, and a configuration for a token');
  p11.command('path').description('the module path').action(action(rt, async () => ({ data: pkcs11ModulePath(), text: pkcs11ModulePath() })));
  p11.command('conf')
    .description('a module configuration for the token (--dir), or for a memory slot (--dir memory)')
    .option('--profile <profile>', PROFILES.join(', '))
    .option('--label <label>')
    .action(action(rt, async (g, o) => {
      const dir = rt.tokenDir(g);
      const profile = (o.profile as ProfileName | undefined) ?? (dir === 'memory' ? 'pkcs11' : (await rt.token(g)).profile);
      const conf = pkcs11Config([{ dir, profile, ...(o.label !== undefined && { label: o.label as string }), create: dir !== 'memory' }]);
      return { data: { 'pkcs11-module': pkcs11ModulePath(), 'pkcs11-config': conf }, text: conf };
    }));
}
