// src/cli/commands/token.ts
//
// The token directory itself, beyond CloudHSM's commands: `token accept-rollback`, the admin's way to
// accept a token.db older than the generation last acknowledged (a restored backup, a cut-off
// write-ahead log), which every login refuses until then. Recorded in rollback.log.

import type { Command } from 'commander';

import { CliError, EXIT, type Runtime } from '../runtime.js';
import { action } from './common.js';

export function registerToken(program: Command, rt: Runtime): void {
  const token = program.command('token').description('the token directory: rollback acceptance');
  token.command('accept-rollback')
    .description('as the admin (the SO for pkcs11), accept the token\'s state although it is older than the generation last acknowledged; logged in rollback.log')
    .option('--username <name>', 'the admin (default: admin, or so for a pkcs11 token)')
    .option('--password <password>', 'the admin password (else SEALHSM_ADMIN_PASSWORD, else a prompt)')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.token(g);
      const admin = (o.username as string | undefined) ?? (hsm.profile === 'pkcs11' ? 'so' : 'admin');
      if (hsm.currentUser !== undefined) throw new CliError('SEALHSM_USAGE', 'log out first: a rollback is accepted where nobody is logged in', EXIT.usage);
      await hsm.acceptRollback(admin, await rt.password(o.password as string | undefined, 'SEALHSM_ADMIN_PASSWORD', `Password for ${admin}:`));
      return { data: { directory: rt.tokenDir(g), accepted: true, by: admin }, text: `accepted the current state of ${rt.tokenDir(g)} (recorded in rollback.log)` };
    }));
}
