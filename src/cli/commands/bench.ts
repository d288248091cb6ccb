// src/cli/commands/bench.ts
//
// `sealhsm bench [workload.yaml]`: runs a workload on the chosen backends and reports it (markdown on
// stdout; JSON lines, markdown and an HTML report to files on request; a progress bar on a TTY).

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';

import { clientBackend } from '../../bench/backends/client.js';
import { kmsBackend } from '../../bench/backends/kms.js';
import { nodeBackend } from '../../bench/backends/node.js';
import { moduleSetup, pkcs11Backend } from '../../bench/backends/pkcs11.js';
import { SoftHsmMissing, softhsmSetup } from '../../bench/backends/softhsm.js';
import { capacity, type HsmType } from '../../bench/capacity.js';
import type { Backend } from '../../bench/operations.js';
import { charts, html, jsonLines, markdown } from '../../bench/report.js';
import { runWorkload, type Progress } from '../../bench/runner.js';
import { readWorkload, workload, WorkloadError, type Workload } from '../../bench/workload.js';
import { CliError, EXIT, success, type Runtime } from '../runtime.js';

async function backendFor(name: string, w: Workload): Promise<Backend> {
  if (name === 'client') return clientBackend(w.profile);
  if (name === 'node') return nodeBackend();
  if (name === 'kms') return kmsBackend();
  if (name === 'module') {
    const m = moduleSetup();
    process.env.SEALHSM_PKCS11_CONF = m.conf; // read by the module at C_Initialize
    return pkcs11Backend('module', m.library, m.pin, undefined);
  }
  if (name === 'softhsm') {
    const s = softhsmSetup();
    return pkcs11Backend('softhsm', s.library, s.pin, undefined);
  }
  const path = name.slice('pkcs11:'.length);
  return pkcs11Backend(`pkcs11:${basename(path)}`, path, w.pin, w.slot);
}

function progressBar(enabled: boolean): Progress | undefined {
  if (!enabled) return undefined;
  const bar = new SingleBar({ format: 'bench [{bar}] {value}/{total} {phase}', hideCursor: true, clearOnComplete: true, stream: process.stderr });
  return { start: (total) => bar.start(total, 0, { phase: '' }), tick: (phase) => bar.increment(1, { phase }), stop: () => bar.stop() };
}

export function registerBench(program: Command, rt: Runtime): void {
  program.command('bench').argument('[workload]', 'a workload file (YAML or JSON)')
    .description('benchmark a workload on sealhsm (client, module), node:crypto and any PKCS#11 library')
    .option('--backends <list>', 'client, module, node, kms, softhsm, pkcs11:<library path> (comma-separated; name? = only if installed)')
    .option('--op <spec...>', 'op:algorithm[:size[:weight]], e.g. sign:ecdsa-p256 encrypt:aes256-gcm:1024')
    .option('--concurrency <list>', 'operations in flight, e.g. 1,4,16')
    .option('--duration <time>', 'per measured phase, e.g. 2s').option('--count <n>', 'operations per phase instead of a duration')
    .option('--warmup <time>', 'unrecorded, before each phase').option('--rounds <n>', 'rounds, backends interleaved')
    .option('--pin <pin>', 'for pkcs11:<path> backends (else SEALHSM_BENCH_PIN)').option('--slot <slot>', 'pkcs11: slot index, or id=N')
    .option('--profile <profile>', 'the client backend\'s token profile')
    .option('--separate', 'measure each operation on its own instead of as one mix')
    .option('--svg <dir>', 'also write each chart as an SVG file there')
    .option('--jsonl <file>', "JSON lines ('-' for stdout)").option('--markdown <file>').option('--html <file>', 'a self-contained report with charts')
    .option('--target-rate <ops>', 'CloudHSM capacity: HSMs for this many ops/s of the mix').option('--hsm-type <type>', 'hsm1.medium or hsm2m.medium', 'hsm2m.medium')
    .action(async (file: string | undefined, o: Record<string, unknown>, cmd: Command) => {
      const flags = {
        backends: o.backends, operations: o.op, concurrency: o.concurrency, duration: o.duration, count: o.count, warmup: o.warmup,
        rounds: o.rounds, pin: o.pin ?? rt.env.SEALHSM_BENCH_PIN, slot: o.slot, profile: o.profile, ...(o.separate === true && { mix: false }),
      };
      let w: Workload;
      try {
        w = file === undefined ? workload({}, flags) : readWorkload(file, flags);
      } catch (e) {
        if (e instanceof WorkloadError) throw new CliError('SEALHSM_USAGE', e.message, EXIT.usage);
        throw e;
      }
      const cap = o.targetRate === undefined ? undefined : capacity(w, Number(o.targetRate), o.hsmType as HsmType);
      const backends: Backend[] = [];
      try {
        for (const b of w.backends) {
          const optional = b.endsWith('?');
          try {
            backends.push(await backendFor(optional ? b.slice(0, -1) : b, w));
          } catch (e) {
            if (!(e instanceof SoftHsmMissing)) throw e;
            if (!optional) throw new CliError('SEALHSM_USAGE', e.message, EXIT.usage);
            rt.io.err(`bench: ${b.slice(0, -1)} left out: ${e.message}`);
          }
        }
        const report = await runWorkload(w, backends, progressBar(Boolean(process.stderr.isTTY) && o.jsonl !== '-'));
        const write = (path: string, text: string): void => {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, text);
        };
        if (o.jsonl !== undefined && o.jsonl !== '-') write(o.jsonl as string, jsonLines(report, cap));
        if (o.markdown !== undefined) write(o.markdown as string, markdown(report, cap));
        if (o.html !== undefined) write(o.html as string, await html(report, cap));
        if (o.svg !== undefined) {
          mkdirSync(o.svg as string, { recursive: true });
          for (const c of await charts(report)) writeFileSync(join(o.svg as string, `${c.name}.svg`), c.svg);
        }
        if (o.jsonl === '-') rt.io.out(jsonLines(report, cap).trimEnd());
        else if (cmd.optsWithGlobals().output === 'json' && cmd.parent?.getOptionValueSource('output') !== 'default') rt.io.out(success({ ...report, ...(cap && { capacity: cap }) }));
        else rt.io.out(markdown(report, cap).trimEnd());
      } finally {
        for (const b of backends) await b.close();
      }
    });
}
