// src/cli/interactive.ts
//
// `sealhsm interactive`: a prompt that keeps the token open and the login for the whole session, as
// `cloudhsm-cli interactive` does. Lines are split as a shell would (shell-quote); history is kept
// for the session only (never written: lines may hold passwords); `help`, `quit` and `exit`. From a
// pipe, the lines are read in order; on a terminal, the prompt is closed while a command runs so a
// password prompt can read the keyboard.

import { createInterface } from 'node:readline';
import { createInterface as createPromptInterface } from 'node:readline/promises';

import { parse } from 'shell-quote';

import { failure, type Runtime } from './runtime.js';

export type RunLine = (argv: string[]) => Promise<void>;

export async function interactive(rt: Runtime, run: RunLine, help: () => string): Promise<void> {
  /** Runs one line; false to stop. */
  const handle = async (line: string): Promise<boolean> => {
    const words = parse(line);
    if (words.some((w) => typeof w !== 'string')) {
      rt.io.err('shell operators and globs are not commands here');
      return true;
    }
    const argv = words as string[];
    if (argv.length === 0) return true;
    if (argv[0] === 'quit' || argv[0] === 'exit') return false;
    if (argv[0] === 'help') {
      rt.io.out(help());
      return true;
    }
    try {
      await run(argv);
    } catch (e) {
      rt.io.out(failure(e).text);
    }
    return true;
  };

  try {
    if (!process.stdin.isTTY) {
      for await (const line of createInterface({ input: process.stdin, terminal: false })) if (!(await handle(line))) break;
      return;
    }
    let history: string[] = [];
    for (;;) {
      const rl = createPromptInterface({ input: process.stdin, output: process.stdout, terminal: true, history, historySize: 500 });
      let line: string;
      try {
        line = await rl.question('sealhsm > ');
      } catch {
        return; // Ctrl-D / Ctrl-C
      } finally {
        history = (rl as unknown as { history: string[] }).history;
        rl.close();
      }
      if (!(await handle(line))) return;
    }
  } finally {
    rt.close();
  }
}
