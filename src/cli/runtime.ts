// src/cli/runtime.ts
//
// What every `sealhsm` command shares: the token (by --dir or SEALHSM_TOKEN), the login (kept in
// interactive mode; from SEALHSM_PIN / CLOUDHSM_PIN "user:password" for single commands, as
// cloudhsm-cli's single-command mode reads CLOUDHSM_PIN), passwords (a prompt without echo, an
// environment variable, or — with a warning — the command line), and output: cloudhsm-cli's JSON
// `{"error_code": 0, "data": ...}` or, with --output text, something a person reads.

import { existsSync } from 'node:fs';
import { join } from 'node:path';

import password from '@inquirer/password';

import { SealHsm, PROFILES, type ProfileName } from '../client/hsm.js';
import { HsmError } from '../errors.js';

/** A failure a command reports: `code` is the CKR name (or a CLI code), `exitCode` what the process returns. */
export class CliError extends Error {
  constructor(readonly code: string, message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notLoggedIn: 3, noToken: 4 } as const;

export interface GlobalOptions {
  readonly dir?: string;
  readonly output?: 'json' | 'text';
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly interactive: boolean;
}

/** Where a new user's password is read from, by every command that sets one (init, user create,
 *  user change-password): SEALHSM_NEW_PASSWORD, else SEALHSM_PASSWORD. */
export const NEW_PASSWORD_VARIABLES = ['SEALHSM_NEW_PASSWORD', 'SEALHSM_PASSWORD'] as const;

export class Runtime {
  #hsm: SealHsm | undefined;
  #dir: string | undefined;

  constructor(readonly io: Io, readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The token directory: --dir, else SEALHSM_TOKEN. */
  tokenDir(options: GlobalOptions): string {
    const dir = options.dir ?? this.env.SEALHSM_TOKEN;
    if (dir === undefined || dir === '') throw new CliError('SEALHSM_NO_TOKEN', 'no token: pass --dir <directory> or set SEALHSM_TOKEN', EXIT.noToken);
    return dir;
  }

  /** The open token, opened on first use (and kept for the rest of an interactive session). With
   *  `create`, a missing token is made with `profile` (default cloudhsm). */
  async token(options: GlobalOptions, create?: { profile?: string; label?: string }): Promise<SealHsm> {
    const dir = this.tokenDir(options);
    if (this.#hsm !== undefined && this.#dir === dir) return this.#hsm;
    this.close();
    const exists = existsSync(join(dir, 'token.db'));
    if (!exists && create === undefined) throw new CliError('SEALHSM_NO_TOKEN', `no token in ${dir} (sealhsm init or sealhsm cluster activate --profile ... make one)`, EXIT.noToken);
    const profile = create?.profile;
    if (profile !== undefined && !PROFILES.includes(profile as ProfileName)) throw new CliError('SEALHSM_USAGE', `--profile must be one of ${PROFILES.join(', ')}`, EXIT.usage);
    this.#hsm = await SealHsm.open({ dir, create: !exists, ...(profile !== undefined && { profile: profile as ProfileName }), ...(create?.label !== undefined && { label: create.label }) });
    this.#dir = dir;
    return this.#hsm;
  }

  /** The token with a user logged in: the interactive login, else SEALHSM_PIN / CLOUDHSM_PIN. */
  async loggedIn(options: GlobalOptions, role?: 'admin' | 'crypto-user'): Promise<SealHsm> {
    const hsm = await this.token(options);
    if (hsm.currentUser === undefined) {
      const pin = this.env.SEALHSM_PIN ?? this.env.CLOUDHSM_PIN;
      if (pin === undefined) {
        throw new CliError('CKR_USER_NOT_LOGGED_IN', this.io.interactive ? 'log in first: login --username <name> --role <role>'
          : 'not logged in: set SEALHSM_PIN=<user>:<password> (CLOUDHSM_PIN works too), or use sealhsm interactive', EXIT.notLoggedIn);
      }
      const colon = pin.indexOf(':');
      if (colon < 1) throw new CliError('SEALHSM_USAGE', 'SEALHSM_PIN is <user>:<password>', EXIT.usage);
      await hsm.login(pin.slice(0, colon), pin.slice(colon + 1));
    }
    const wanted = role ?? (this.env.SEALHSM_ROLE ?? this.env.CLOUDHSM_ROLE) as 'admin' | 'crypto-user' | undefined;
    if (wanted !== undefined && hsm.currentUser!.role !== wanted) {
      throw new CliError('CKR_USER_TYPE_INVALID', `this command needs a${wanted === 'admin' ? 'n admin' : ' crypto user'}; ${hsm.currentUser!.username} is a${hsm.currentUser!.role === 'admin' ? 'n admin' : ' crypto user'}`);
    }
    return hsm;
  }

  /** A password: the flag (with a warning), else the first environment variable of `envNames` that
   *  is set, else a prompt on a TTY. */
  async password(flag: string | undefined, envNames: string | readonly string[], prompt: string): Promise<string> {
    const names = typeof envNames === 'string' ? [envNames] : envNames;
    if (flag !== undefined) {
      this.io.err('warning: a password on the command line is visible to other users of this machine (ps, shell history); prefer the prompt or ' + names[0]);
      return flag;
    }
    for (const name of names) {
      const fromEnv = this.env[name];
      if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    }
    if (!process.stdin.isTTY) throw new CliError('SEALHSM_USAGE', `no password: set ${names.join(' or ')}, or run on a terminal to be asked`, EXIT.usage);
    return password({ message: prompt, mask: false });
  }

  close(): void {
    this.#hsm?.close();
    this.#hsm = undefined;
    this.#dir = undefined;
  }
}

/** The JSON cloudhsm-cli prints for a result. */
export function success(data: unknown): string {
  return JSON.stringify({ error_code: 0, data }, null, 2);
}

/** The JSON for a failure: a non-zero error_code (the CKR value where there is one) and its name. */
export function failure(e: unknown): { text: string; exitCode: number } {
  if (e instanceof HsmError) return { text: JSON.stringify({ error_code: e.rv || 1, data: { error: e.code, message: e.message } }, null, 2), exitCode: EXIT.failed };
  if (e instanceof CliError) return { text: JSON.stringify({ error_code: 1, data: { error: e.code, message: e.message } }, null, 2), exitCode: e.exitCode };
  const code = (e as { code?: unknown }).code;
  const name = typeof code === 'string' ? code : e instanceof TypeError || e instanceof RangeError ? 'SEALHSM_USAGE' : 'SEALHSM_ERROR';
  const exitCode = name === 'SEALHSM_USAGE' ? EXIT.usage : EXIT.failed;
  return { text: JSON.stringify({ error_code: 1, data: { error: name, message: (e as Error).message ?? String(e) } }, null, 2), exitCode };
}
