// src/bench/report.ts
//
// A bench report as JSON lines, a markdown table, and a self-contained HTML page with SVG charts
// (throughput against concurrency per backend, and latency percentiles) drawn by Vega on the server.

import * as vega from 'vega';

import type { Capacity } from './capacity.js';
import type { BenchReport, ResultRow } from './runner.js';

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : String(n));
const errors = (e: Readonly<Record<string, number>>): string => Object.entries(e).map(([k, v]) => `${k}×${v}`).join(' ') || '';

export function jsonLines(r: BenchReport, cap?: Capacity): string {
  const head = { type: 'machine', workload: r.workload, startedAt: r.startedAt, baseline: r.baseline, ...r.machine };
  const lines = [head, ...r.rows.map((row) => ({ type: 'result', ...row })), ...r.notApplicable.map((n) => ({ type: 'not-applicable', ...n })),
    ...r.notes.map((note) => ({ type: 'note', note })), ...(cap ? [{ type: 'capacity', ...cap }] : [])];
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

export function markdown(r: BenchReport, cap?: Capacity): string {
  const m = r.machine;
  const out = [
    `### ${r.workload}`, '',
    `${m.cpu}, ${m.cores} cores, Node ${m.node}, OpenSSL ${m.openssl}, ${m.platform}; ratio = ops/s ÷ ${r.baseline}'s`, '',
    '| operation | conc. | backend | ops/s | ratio | p50 ms | p90 ms | p99 ms | p99.9 ms | CPU ms/op | RSS MiB | errors |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...r.rows.map((x) => `| ${x.operation} | ${x.concurrency} | ${x.backend} | ${fmt(x.opsPerSecond)} | ${x.ratio === undefined ? '' : `${x.ratio.toFixed(2)}×`} | ${x.p50} | ${x.p90} | ${x.p99} | ${x.p999} | ${x.cpuMsPerOp} | ${x.peakRssMiB} | ${errors(x.errors)} |`),
  ];
  if (r.notApplicable.length) out.push('', ...r.notApplicable.map((n) => `- ${n.backend}, ${n.operation}: not run (${n.reason})`));
  if (r.notes.length) out.push('', ...r.notes.map((n) => `- ${n}`));
  if (cap) {
    out.push('', `**CloudHSM capacity** (${cap.hsmType}, AWS's published rates) for ${fmt(cap.targetRate)} ops/s of this mix: ` +
      (cap.published.length ? `${cap.hsms} HSM(s) of load, ${cap.recommended} with N+1` : 'no operation of the mix has a published rate'));
    for (const p of cap.published) out.push(`- ${p.operation}: ${fmt(p.opsPerSecond)} ops/s at ${fmt(p.perHsm)}/s per HSM = ${p.hsms} HSM`);
    if (cap.notPublished.length) out.push(`- not published by AWS: ${cap.notPublished.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

async function svg(spec: object): Promise<string> {
  const view = new vega.View(vega.parse(spec as vega.Spec), { renderer: 'none' });
  const out = await view.toSVG();
  view.finalize();
  return out;
}

function throughputChart(operation: string, rows: readonly ResultRow[]): object {
  return {
    width: 360, height: 200, padding: 8, title: { text: operation, fontSize: 12 },
    data: [{ name: 't', values: rows.map((r) => ({ backend: r.backend, c: r.concurrency, v: r.opsPerSecond })) }],
    scales: [
      { name: 'x', type: 'point', domain: { data: 't', field: 'c', sort: true }, range: 'width' },
      { name: 'y', type: 'linear', domain: { data: 't', field: 'v' }, range: 'height', nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: { data: 't', field: 'backend' }, range: 'category' },
    ],
    axes: [{ orient: 'bottom', scale: 'x', title: 'operations in flight' }, { orient: 'left', scale: 'y', title: 'ops/s', format: '~s' }],
    legends: [{ stroke: 'color', title: 'backend' }],
    marks: [{
      type: 'group', from: { facet: { name: 's', data: 't', groupby: 'backend' } },
      marks: [
        { type: 'line', from: { data: 's' }, encode: { enter: { x: { scale: 'x', field: 'c' }, y: { scale: 'y', field: 'v' }, stroke: { scale: 'color', field: 'backend' }, strokeWidth: { value: 2 } } } },
        { type: 'symbol', from: { data: 's' }, encode: { enter: { x: { scale: 'x', field: 'c' }, y: { scale: 'y', field: 'v' }, fill: { scale: 'color', field: 'backend' }, size: { value: 30 } } } },
      ],
    }],
  };
}

function latencyChart(operation: string, rows: readonly ResultRow[]): object {
  const values = rows.flatMap((r) => (['p50', 'p90', 'p99', 'p999'] as const).map((q) => ({ backend: r.backend, q: q === 'p999' ? 'p99.9' : q, v: Math.max(r[q], 0.001) })));
  return {
    width: 360, height: 200, padding: 8, title: { text: `${operation}: latency at ${rows[0]?.concurrency ?? ''} in flight`, fontSize: 12 },
    data: [{ name: 't', values }],
    scales: [
      { name: 'x', type: 'band', domain: ['p50', 'p90', 'p99', 'p99.9'], range: 'width', padding: 0.2 },
      { name: 'y', type: 'log', domain: { data: 't', field: 'v' }, range: 'height', nice: true },
      { name: 'color', type: 'ordinal', domain: { data: 't', field: 'backend' }, range: 'category' },
    ],
    axes: [{ orient: 'bottom', scale: 'x' }, { orient: 'left', scale: 'y', title: 'ms (log)' }],
    legends: [{ fill: 'color', title: 'backend' }],
    marks: [{
      type: 'group', from: { facet: { name: 'g', data: 't', groupby: 'q' } },
      encode: { enter: { x: { scale: 'x', field: 'q' }, width: { scale: 'x', band: 1 }, height: { signal: 'height' } } },
      signals: [{ name: 'w', update: "bandwidth('x')" }],
      scales: [{ name: 'inner', type: 'band', range: { signal: '[0, w]' }, domain: { data: 'g', field: 'backend' } }],
      marks: [{ type: 'rect', from: { data: 'g' }, encode: { enter: { x: { scale: 'inner', field: 'backend' }, width: { scale: 'inner', band: 1 }, y: { scale: 'y', field: 'v' }, y2: { signal: 'height' }, fill: { scale: 'color', field: 'backend' } } } }],
    }],
  };
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Per operation, the throughput chart and the latency chart at the highest concurrency, as SVG. */
export async function charts(r: BenchReport): Promise<Array<{ name: string; operation: string; svg: string }>> {
  const out: Array<{ name: string; operation: string; svg: string }> = [];
  for (const op of [...new Set(r.rows.map((x) => x.operation))]) {
    const rows = r.rows.filter((x) => x.operation === op);
    const top = Math.max(...rows.map((x) => x.concurrency));
    const base = op.replace(/[^A-Za-z0-9-]+/g, '_');
    out.push({ name: `${base}.throughput`, operation: op, svg: await svg(throughputChart(op, rows)) });
    out.push({ name: `${base}.latency`, operation: op, svg: await svg(latencyChart(op, rows.filter((x) => x.concurrency === top))) });
  }
  return out;
}

/** A self-contained page: the table and, per operation, both charts as inline SVG. */
export async function html(r: BenchReport, cap?: Capacity): Promise<string> {
  const all = await charts(r);
  const sections = [...new Set(all.map((c) => c.operation))].map((op) =>
    `<section><h3>${escape(op)}</h3>${all.filter((c) => c.operation === op).map((c) => c.svg).join('')}</section>`);
  const m = r.machine;
  const head = ['operation', 'conc.', 'backend', 'ops/s', 'ratio', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'CPU ms/op', 'RSS MiB', 'errors'];
  const body = r.rows.map((x) => [x.operation, x.concurrency, x.backend, fmt(x.opsPerSecond), x.ratio === undefined ? '' : `${x.ratio.toFixed(2)}×`, x.p50, x.p90, x.p99, x.p999, x.cpuMsPerOp, x.peakRssMiB, errors(x.errors)]);
  const md = markdown(r, cap).split('\n').filter((l) => l.startsWith('- ') || l.startsWith('**')).map((l) => `<p>${escape(l.replace(/\*\*/g, ''))}</p>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sealhsm bench: ${escape(r.workload)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:nth-child(-n+3),th{text-align:left}section{display:inline-block;margin:1em 1em 0 0;vertical-align:top}</style></head><body>
<h1>sealhsm bench: ${escape(r.workload)}</h1><p>${escape(`${m.cpu}, ${m.cores} cores, Node ${m.node}, OpenSSL ${m.openssl}, ${m.platform}; ${r.startedAt}; ratio = ops/s ÷ ${r.baseline}'s`)}</p>
<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.map((row) => `<tr>${row.map((c) => `<td>${escape(String(c))}</td>`).join('')}</tr>`).join('')}</tbody></table>${md}
${sections.join('\n')}</body></html>
`;
}
