// src/cli/commands/token.ts
//
// The token directory itself, beyond CloudHSM's commands, for the operator who has its files:
// `token accept-rollback` (the admin accepts a token.db older than the generation last
// acknowledged, which every login refuses until then) and `token unlock` (a user locked by failed
// logins, the sole admin too, proves its password where the files are). Both recorded in operator.log.

import type { Command } from 'commander';

import { CliError, EXIT, type Runtime } from '../runtime.js';
import { action } from './common.js';

export function registerToken(program: Command, rt: Runtime): void {
  const token = program.command('token').description('the token directory: accepting a rollback, unlocking a locked user');
  token.command('accept-rollback')
    .description('as the admin (the SO for pkcs11), accept the token\'s state although it is older than the generation last acknowledged; logged in operator.log')
    .option('--username <name>', 'the admin (default: admin, or so for a pkcs11 token)')
    .option('--password <password>', 'the admin password (else SEALHSM_ADMIN_PASSWORD, else a prompt)')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.token(g);
      const admin = (o.username as string | undefined) ?? (hsm.profile === 'pkcs11' ? 'so' : 'admin');
      if (hsm.currentUser !== undefined) throw new CliError('SEALHSM_USAGE', 'log out first: a rollback is accepted where nobody is logged in', EXIT.usage);
      await hsm.acceptRollback(admin, await rt.password(o.password as string | undefined, 'SEALHSM_ADMIN_PASSWORD', `Password for ${admin}:`));
      return { data: { directory: rt.tokenDir(g), accepted: true, by: admin }, text: `accepted the current state of ${rt.tokenDir(g)} (recorded in operator.log)` };
    }));
  token.command('unlock')
    .description('unlock a user locked by failed logins (the sole admin too) by proving its password where the token directory is; logged in operator.log')
    .requiredOption('--username <name>', 'the locked user')
    .option('--password <password>', 'its password (else SEALHSM_PASSWORD, else a prompt)')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.token(g);
      const name = o.username as string;
      await hsm.unlockUser(name, await rt.password(o.password as string | undefined, 'SEALHSM_PASSWORD', `Password for ${name}:`));
      return { data: { directory: rt.tokenDir(g), unlocked: name }, text: `unlocked ${name} (recorded in operator.log)` };
    }));
}
