// src/cli/main.ts
//
// The `sealhsm` command: cloudhsm-cli's command tree over a token directory, plus `init`, `pkcs11`
// and `interactive`. Parsing by commander; every result is cloudhsm-cli's JSON on stdout (or text
// with --output text); exit codes: 0 done, 1 refused (the JSON names the CKR code), 2 usage,
// 3 not logged in, 4 no token.

import { readFileSync } from 'node:fs';

import { Command, CommanderError } from 'commander';

import { registerBench } from './commands/bench.js';
import { registerCluster } from './commands/cluster.js';
import { registerCrypto } from './commands/crypto.js';
import { registerKey } from './commands/key.js';
import { registerKms } from './commands/kms.js';
import { registerToken } from './commands/token.js';
import { registerUser } from './commands/user.js';
import { registerWrap } from './commands/wrap.js';
import { interactive } from './interactive.js';
import { EXIT, Runtime, failure, type Io } from './runtime.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The command tree, bound to one runtime (an interactive session builds it afresh for each line). */
export function buildProgram(rt: Runtime, { inSession = false } = {}): Command {
  const program = new Command('sealhsm')
    .description('a software HSM: cloudhsm-cli\'s commands over a sealhsm token directory')
    .version(VERSION)
    .option('--dir <directory>', 'the token directory (else SEALHSM_TOKEN)')
    .option('--output <format>', 'json (cloudhsm-cli\'s) or text', 'json')
    .exitOverride()
    .configureOutput({ writeOut: (s) => rt.io.out(s.trimEnd()), writeErr: (s) => rt.io.err(s.trimEnd()) })
    // Every command's --help lists --dir and --output too: they apply to every command.
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError();
  registerCluster(program, rt);
  registerUser(program, rt);
  registerKey(program, rt);
  registerWrap(program.commands.find((c) => c.name() === 'key')!, rt);
  registerCrypto(program, rt);
  registerBench(program, rt);
  registerKms(program, rt);
  registerToken(program, rt);
  if (!inSession) {
    program.command('interactive').description('a prompt that keeps the token open and the login (help, quit)')
      .action(async (_o: unknown, cmd: Command) => {
        const globals = cmd.optsWithGlobals() as { dir?: string; output?: string };
        const session = new Runtime({ ...rt.io, interactive: true }, rt.env);
        const fixed = [...(globals.dir !== undefined ? ['--dir', globals.dir] : []), '--output', globals.output ?? 'json'];
        await interactive(session, (argv) => runIn(session, [...fixed, ...argv]), () => buildProgram(session, { inSession: true }).helpInformation());
      });
  }
  return program;
}

async function runIn(rt: Runtime, argv: readonly string[]): Promise<void> {
  await buildProgram(rt, { inSession: true }).parseAsync([...argv], { from: 'user' });
}

/** Runs one command line; returns the exit code. */
export async function main(argv: readonly string[], io: Io = { out: (s) => console.log(s), err: (s) => console.error(s), interactive: false }): Promise<number> {
  const rt = new Runtime(io);
  try {
    await buildProgram(rt).parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    const f = failure(e);
    io.out(f.text);
    return f.exitCode;
  } finally {
    rt.close();
  }
}
