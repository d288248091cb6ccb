// src/cli/commands/token.ts
//
// The token directory itself, beyond CloudHSM's commands, for the operator who has its files:
// `token accept-rollback` (the admin accepts a token.db older than the generation last
// acknowledged, which every login refuses until then, and each user accepts its own objects' older
// state, which only that user's key can vouch for) and `token unlock` (a user locked by failed
// logins, the sole admin too, proves its password where the files are). Both recorded in operator.log.

import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import { SealHsm } from '../../client/hsm.js';

import { CliError, EXIT, type Runtime } from '../runtime.js';
import { action } from './common.js';

export function registerToken(program: Command, rt: Runtime): void {
  const token = program.command('token').description('the token directory: accepting a rollback, unlocking a locked user, migrating an older format');
  token.command('accept-rollback')
    .description("accept a state older than the generation last acknowledged: the admin (the SO for pkcs11) for the token, then each user for its own objects; logged in operator.log")
    .option('--username <name>', 'who accepts (default: admin, or so for a pkcs11 token)')
    .option('--password <password>', "its password (else SEALHSM_ADMIN_PASSWORD for the admin, SEALHSM_PASSWORD for a user, else a prompt)")
    .action(action(rt, async (g, o) => {
      const hsm = await rt.token(g);
      const admin = hsm.profile === 'pkcs11' ? 'so' : 'admin';
      const user = (o.username as string | undefined) ?? admin;
      if (hsm.currentUser !== undefined) throw new CliError('SEALHSM_USAGE', 'log out first: a rollback is accepted where nobody is logged in', EXIT.usage);
      const variable = user.toLowerCase() === admin ? 'SEALHSM_ADMIN_PASSWORD' : 'SEALHSM_PASSWORD';
      await hsm.acceptRollback(user, await rt.password(o.password as string | undefined, variable, `Password for ${user}:`));
      return { data: { directory: rt.tokenDir(g), accepted: true, by: user }, text: `accepted the current state of ${rt.tokenDir(g)} for ${user} (recorded in operator.log)` };
    }));
  token.command('migrate')
    .description("rewrite a token of format 2 (one password opened every user's keys) as format 3, with every user's password; the old one is kept as <dir>.format2")
    .option('--passwords-file <file>', "one 'user:password' per line, for every user of the token (else a prompt for each of --users)")
    .option('--users <names>', 'the token\'s users, comma-separated, to be asked for their passwords')
    .action(action(rt, async (g, o) => {
      const dir = rt.tokenDir(g);
      const passwords: Record<string, string> = {};
      if (o.passwordsFile !== undefined) {
        for (const line of readFileSync(o.passwordsFile as string, 'utf8').split('\n')) {
          if (line.trim() === '') continue;
          const at = line.indexOf(':');
          if (at <= 0) throw new CliError('SEALHSM_USAGE', "each line of the passwords file is 'user:password'", EXIT.usage);
          passwords[line.slice(0, at).trim()] = line.slice(at + 1);
        }
      } else if (o.users !== undefined) {
        for (const name of String(o.users).split(',').map((n) => n.trim()).filter((n) => n !== '')) {
          passwords[name] = await rt.password(undefined, [], `Password for ${name}:`);
        }
      } else {
        throw new CliError('SEALHSM_USAGE', 'give --passwords-file or --users: the migration needs every user\'s password', EXIT.usage);
      }
      const kept = await SealHsm.migrate(dir, passwords);
      return { data: { directory: dir, migrated: true, formerToken: kept }, text: `migrated ${dir} to token format 3; the old token is ${kept} (remove it once the new one works: it holds the old seal)` };
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
