// src/cli/commands/common.ts
//
// How a command's action is written: it gets the global options and its own, returns its result,
// and this prints it as JSON (default) or text (--output text), tables by cli-table3.

import Table from 'cli-table3';
import type { Command } from 'commander';

import { CliError, EXIT, success, type GlobalOptions, type Runtime } from '../runtime.js';

export interface Result {
  readonly data: unknown;
  /** What --output text prints; the JSON when absent. */
  readonly text?: string;
}

// Commander hands an action its positional arguments, then its options, then the command.
type Handler = (globals: GlobalOptions, options: Record<string, unknown>, args: string[]) => Promise<Result>;

export function action(rt: Runtime, handler: Handler): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const globals = cmd.optsWithGlobals() as GlobalOptions;
    if (globals.output !== undefined && globals.output !== 'json' && globals.output !== 'text') throw new CliError('SEALHSM_USAGE', '--output is json or text', EXIT.usage);
    const result = await handler(globals, cmd.opts(), args.slice(0, -2) as string[]);
    rt.io.out(globals.output === 'text' && result.text !== undefined ? result.text : success(result.data));
  };
}

export function table(head: string[], rows: Array<Array<string | number | boolean>>): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

/** Bytes from --data (base64) or --data-path. */
export async function dataArg(options: Record<string, unknown>, flag: 'data' | 'signature'): Promise<Buffer> {
  const inline = options[flag] as string | undefined;
  const path = options[`${flag}Path`] as string | undefined;
  if ((inline === undefined) === (path === undefined)) throw new CliError('SEALHSM_USAGE', `give one of --${flag} (base64) or --${flag}-path`, EXIT.usage);
  if (path !== undefined) return (await import('node:fs/promises')).readFile(path);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(inline!)) throw new CliError('SEALHSM_USAGE', `--${flag} is base64`, EXIT.usage);
  return Buffer.from(inline!, 'base64');
}
