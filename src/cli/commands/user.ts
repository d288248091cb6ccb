// src/cli/commands/user.ts — user list | create | delete | change-password (cloudhsm-cli's `user`).

import type { Command } from 'commander';

import { CliError, EXIT, NEW_PASSWORD_VARIABLES, type Runtime } from '../runtime.js';
import { action, table } from './common.js';

const role = (r: unknown): 'admin' | 'crypto-user' => {
  if (r !== 'admin' && r !== 'crypto-user') throw new CliError('SEALHSM_USAGE', '--role is admin or crypto-user', EXIT.usage);
  return r;
};

export function registerUser(program: Command, rt: Runtime): void {
  const user = program.command('user').description('manage users');
  user.command('list').description('every user (no login needed)').action(action(rt, async (g) => {
    const users = (await rt.token(g)).users.list();
    const data = { users: users.map((u) => ({ username: u.username, role: u.role, locked: String(u.locked), mfa: [], quorum: [], 'cluster-coverage': 'full' })) };
    return { data, text: table(['username', 'role', 'locked'], users.map((u) => [u.username, u.role, u.locked])) };
  }));
  user.command('create').description('create a user (admin)')
    .requiredOption('--username <name>').requiredOption('--role <role>', 'admin or crypto-user')
    .option('--password <password>', 'else SEALHSM_NEW_PASSWORD or SEALHSM_PASSWORD (as init reads it), else a prompt')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.loggedIn(g, 'admin');
      await hsm.users.create(o.username as string, await rt.password(o.password as string | undefined, NEW_PASSWORD_VARIABLES, `Password for ${String(o.username)}:`), role(o.role));
      return { data: { username: o.username, role: o.role }, text: `created ${String(o.username)} (${String(o.role)})` };
    }));
  user.command('delete').description('delete a user (admin)')
    .requiredOption('--username <name>').requiredOption('--role <role>', 'admin or crypto-user')
    .action(action(rt, async (g, o) => {
      role(o.role);
      await (await rt.loggedIn(g, 'admin')).users.delete(o.username as string);
      return { data: { username: o.username, role: o.role }, text: `deleted ${String(o.username)}` };
    }));
  user.command('change-password').description("change a password (admins for anyone; a crypto user for itself)")
    .requiredOption('--username <name>').requiredOption('--role <role>', 'admin or crypto-user')
    .option('--password <password>', 'else SEALHSM_NEW_PASSWORD or SEALHSM_PASSWORD, else a prompt')
    .option('--discard-keys', "an admin resetting another user deletes the token objects that only the user's old password opened")
    .action(action(rt, async (g, o) => {
      role(o.role);
      const hsm = await rt.loggedIn(g);
      const password = await rt.password(o.password as string | undefined, NEW_PASSWORD_VARIABLES, `New password for ${String(o.username)}:`);
      await hsm.users.changePassword(o.username as string, password, { discardKeys: o.discardKeys === true });
      return { data: { username: o.username, role: o.role }, text: `changed the password of ${String(o.username)}` };
    }));
}
