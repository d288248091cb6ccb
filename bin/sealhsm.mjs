#!/usr/bin/env node
// sealhsm — cloudhsm-cli's commands over a sealhsm token (src/cli/main.ts); `sealhsm --help`.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
