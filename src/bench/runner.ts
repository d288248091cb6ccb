// src/bench/runner.ts
//
// Runs a workload: for each concurrency level and round, each backend in turn (interleaved, so
// machine noise falls on all alike) runs a warm-up and then a measured phase in which `concurrency`
// workers each pick operations from the weighted mix. Per backend, operation and concurrency it
// keeps the best round's throughput, every latency (for percentiles), errors by code, CPU time
// and peak RSS.

import { cpus } from 'node:os';

import { pkcs11Code } from './backends/pkcs11.js';
import { ALGORITHMS, NotApplicable, operationLabel, type Backend, type Prepared } from './operations.js';
import type { Workload } from './workload.js';

export interface ResultRow {
  readonly backend: string;
  readonly operation: string;
  readonly concurrency: number;
  /** Operations per second of this operation (best round). */
  readonly opsPerSecond: number;
  /** Latency in milliseconds. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  /** Process CPU time per operation of the phase, in milliseconds (user + system, all threads). */
  readonly cpuMsPerOp: number;
  readonly peakRssMiB: number;
  readonly operations: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Throughput relative to the baseline backend (node if present, else the first). */
  ratio?: number;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly openssl: string;
  readonly platform: string;
}

export interface BenchReport {
  readonly workload: string;
  readonly machine: Machine;
  readonly startedAt: string;
  readonly baseline: string;
  readonly rows: ResultRow[];
  readonly notApplicable: Array<{ backend: string; operation: string; reason: string }>;
  readonly notes: string[];
}

export function machine(): Machine {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, openssl: process.versions.openssl ?? 'unknown', platform: `${process.platform} ${process.arch}` };
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A small deterministic generator, so every backend sees the same sequence of picks. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Acc { count: number; best: number; latencies: number[]; errors: Record<string, number>; cpuMs: number; peakRss: number }

export interface Progress {
  start(total: number): void;
  tick(label: string): void;
  stop(): void;
}

export async function runWorkload(w: Workload, backends: readonly Backend[], progress?: Progress): Promise<BenchReport> {
  const labels = w.operations.map((o) => operationLabel(o.op, o.algorithm, o.size));
  const maxC = Math.max(...w.concurrency);
  const prepared = new Map<string, Array<Prepared | undefined>>();
  const notApplicable: BenchReport['notApplicable'] = [];
  for (const b of backends) {
    await b.setConcurrency?.(maxC);
    const fns: Array<Prepared | undefined> = [];
    for (const [i, o] of w.operations.entries()) {
      try {
        fns.push(await b.prepare(o.op, o.algorithm, ALGORITHMS[o.algorithm]!, o.size));
      } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
        fns.push(undefined);
        notApplicable.push({ backend: b.name, operation: labels[i]!, reason: e.message });
      }
    }
    prepared.set(b.name, fns);
  }

  const acc = new Map<string, Acc>();
  const key = (b: string, op: string, c: number) => `${b}\u0000${op}\u0000${c}`;
  // One mix, or each operation on its own.
  const groups: number[][] = w.mix ? [w.operations.map((_, i) => i)] : w.operations.map((_, i) => [i]);
  progress?.start(groups.length * w.concurrency.length * w.rounds * backends.length);
  for (const group of groups) for (const c of w.concurrency) {
    for (let round = 0; round < w.rounds; round++) {
      for (const b of backends) {
        const fns = prepared.get(b.name)!;
        const usable = group.filter((i) => fns[i] !== undefined);
        if (usable.length === 0) {
          progress?.tick(`${b.name} c=${c}`);
          continue;
        }
        const total = usable.reduce((s, i) => s + w.operations[i]!.weight, 0);
        const pickFrom = (r: number): number => {
          let x = r * total;
          for (const i of usable) if ((x -= w.operations[i]!.weight) < 0) return i;
          return usable[usable.length - 1]!;
        };
        const phase = async (seconds: number, count: number | undefined, record: boolean) => {
          const counts = new Array<number>(fns.length).fill(0);
          const lat: number[][] = fns.map(() => []);
          const errs: Array<Record<string, number>> = fns.map(() => ({}));
          let issued = 0;
          const end = performance.now() + seconds * 1000;
          let peak = process.memoryUsage.rss();
          const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
          sampler.unref();
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          await Promise.all(Array.from({ length: c }, async (_, worker) => {
            const rand = prng(0x5ea1 + worker * 7919 + round);
            while (count !== undefined ? issued < count : performance.now() < end) {
              issued++;
              const i = pickFrom(rand());
              const s = performance.now();
              try {
                await fns[i]!(worker);
                counts[i]!++;
                if (record) lat[i]!.push(performance.now() - s);
              } catch (e) {
                const code = pkcs11Code(e) ?? (e as { code?: string }).code ?? (e as Error).name ?? 'Error';
                errs[i]![code] = (errs[i]![code] ?? 0) + 1;
              }
            }
          }));
          const elapsed = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          clearInterval(sampler);
          peak = Math.max(peak, process.memoryUsage.rss());
          await b.afterPhase?.();
          if (!record) return;
          const done = counts.reduce((s, n) => s + n, 0);
          for (const i of usable) {
            const label = labels[i]!;
            const k = key(b.name, label, c);
            const a = acc.get(k) ?? { count: 0, best: 0, latencies: [], errors: {}, cpuMs: 0, peakRss: 0 };
            a.count += counts[i]!;
            a.best = Math.max(a.best, counts[i]! / elapsed);
            for (const l of lat[i]!) a.latencies.push(l);
            for (const [code, n] of Object.entries(errs[i]!)) a.errors[code] = (a.errors[code] ?? 0) + n;
            a.cpuMs += done > 0 ? ((cpu.user + cpu.system) / 1000) * (counts[i]! / done) : 0;
            a.peakRss = Math.max(a.peakRss, peak);
            acc.set(k, a);
          }
        };
        if (w.warmup > 0) await phase(w.warmup, undefined, false);
        await phase(w.duration, w.count, true);
        progress?.tick(`${b.name} ${usable.length === 1 ? labels[usable[0]!] : 'mix'} c=${c} round ${round + 1}`);
      }
    }
  }
  progress?.stop();

  const baseline = backends.some((b) => b.name === 'node') ? 'node' : backends[0]!.name;
  const rows: ResultRow[] = [];
  for (const [k, a] of acc) {
    const [backend, operation, c] = k.split('\u0000') as [string, string, string];
    const sorted = Float64Array.from(a.latencies).sort();
    const r = (x: number) => Math.round(x * 1000) / 1000;
    rows.push({
      backend, operation, concurrency: Number(c), opsPerSecond: Math.round(a.best), operations: a.count,
      p50: r(percentile(sorted, 0.5)), p90: r(percentile(sorted, 0.9)), p99: r(percentile(sorted, 0.99)), p999: r(percentile(sorted, 0.999)),
      cpuMsPerOp: a.count > 0 ? r(a.cpuMs / a.count) : 0, peakRssMiB: Math.round(a.peakRss / 1048576), errors: a.errors,
    });
  }
  for (const row of rows) {
    const base = rows.find((x) => x.backend === baseline && x.operation === row.operation && x.concurrency === row.concurrency);
    if (base && base.opsPerSecond > 0) row.ratio = Math.round((row.opsPerSecond / base.opsPerSecond) * 100) / 100;
  }
  const order = (r: ResultRow) => [labels.indexOf(r.operation), r.concurrency, backends.findIndex((b) => b.name === r.backend)];
  rows.sort((x, y) => {
    const [a, b] = [order(x), order(y)];
    return a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  });
  const notes = backends.flatMap((b) => (b as Backend & { notes?: string[] }).notes ?? []);
  return { workload: w.name, machine: machine(), startedAt: new Date().toISOString(), baseline, rows, notApplicable, notes };
}
