// test/bench_tool.test.ts — `sealhsm bench`: workload files and their errors, a tiny workload on every
// backend (sealhsm's client and module, node:crypto, SoftHSMv2 through its PKCS#11 library), the
// JSON lines schema, the markdown and HTML reports, and the CloudHSM capacity view.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { capacity } from '../src/bench/capacity.js';
import { readWorkload, workload, WorkloadError } from '../src/bench/workload.js';
import { hasFile, hasProgram } from './helpers/programs.js';

const BIN = fileURLToPath(new URL('../bin/sealhsm.mjs', import.meta.url));
const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';
const softhsm = hasProgram('softhsm2-util', 'softhsm2') && hasFile(SOFTHSM, 'softhsm2');
const dir = mkdtempSync(join(tmpdir(), 'sealhsm-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text?: string) => {
  const p = join(dir, name);
  if (text !== undefined) writeFileSync(p, text);
  return p;
};

describe('workloads', () => {
  it('reads YAML and JSON files, with defaults, and flags override them', () => {
    const y = readWorkload(file('w.yaml', [
      'name: mixed', 'backends: [client, node]', 'concurrency: [1, 8]', 'duration: 500ms', 'warmup: 0', 'rounds: 2',
      'operations:', '  - sign:ecdsa-p256', '  - { op: encrypt, algorithm: aes256-gcm, size: 1024, weight: 3 }', '',
    ].join('\n')));
    expect(y).toMatchObject({ name: 'mixed', backends: ['client', 'node'], concurrency: [1, 8], duration: 0.5, warmup: 0, rounds: 2 });
    expect(y.operations).toEqual([{ op: 'sign', algorithm: 'ecdsa-p256', size: 64, weight: 1 }, { op: 'encrypt', algorithm: 'aes256-gcm', size: 1024, weight: 3 }]);
    const j = readWorkload(file('w.json', JSON.stringify({ operations: ['hmac:hmac-sha256:32:2'] })), { concurrency: '2,4', duration: '1s' });
    expect(j).toMatchObject({ backends: ['client', 'node'], concurrency: [2, 4], duration: 1, operations: [{ op: 'hmac', size: 32, weight: 2 }] });
    expect(workload({ operations: ['digest:sha256'], backends: 'client,pkcs11:/x/lib.so' }).backends).toEqual(['client', 'pkcs11:/x/lib.so']);
  });

  it.each([
    [{ operations: [] }, /needs operations/], [{ operations: ['sign:md5'] }, /unknown algorithm/], [{ operations: ['encrypt:ecdsa-p256'] }, /does not encrypt/],
    [{ operations: ['sign:ecdsa-p256'], backends: ['hsm'] }, /unknown backend/], [{ operations: ['sign:ecdsa-p256'], backends: ['hsm?'] }, /unknown backend/],
    [{ operations: ['sign:ecdsa-p256'], duration: 'long' }, /duration/],
    [{ operations: ['sign:ecdsa-p256'], concurrency: [0] }, /concurrency/], [{ operations: ['sign:ecdsa-p256:-1'] }, /size/], [{ operations: ['sign:ecdsa-p256:64:0'] }, /weight/],
  ])('refuses %j', (doc, message) => {
    expect(() => workload(doc as Record<string, unknown>)).toThrow(WorkloadError);
    expect(() => workload(doc as Record<string, unknown>)).toThrow(message);
  });

  it("softhsm sets SoftHSMv2 up for the run; 'softhsm?' is left out, with a note, where it is missing", () => {
    expect(workload({ operations: ['digest:sha256'], backends: 'client,softhsm?' }).backends).toEqual(['client', 'softhsm?']);
    const env = { ...process.env, SEALHSM_SOFTHSM_LIBRARY: join(dir, 'no-such-libsofthsm2.so') };
    const args = [BIN, 'bench', '--op', 'digest:sha256:32', '--concurrency', '1', '--count', '20', '--warmup', '0'];
    const optional = spawnSync(process.execPath, [...args, '--backends', 'client,softhsm?'], { encoding: 'utf8', env });
    expect(optional.status).toBe(0);
    expect(optional.stderr).toMatch(/softhsm left out: no SoftHSMv2 library at .*no-such-libsofthsm2\.so/);
    expect(optional.stdout).toMatch(/\| digest:sha256:32 \| 1 \| client \|/);
    const required = spawnSync(process.execPath, [...args, '--backends', 'client,softhsm'], { encoding: 'utf8', env });
    expect(required.status).toBe(2);
    expect(JSON.parse(required.stdout).data.message).toMatch(/no SoftHSMv2 library/);
    if (!softhsm) return;
    const real = spawnSync(process.execPath, [...args, '--backends', 'softhsm,node'], { encoding: 'utf8', env: { ...process.env } });
    expect(real.status).toBe(0);
    expect(real.stdout).toMatch(/\| digest:sha256:32 \| 1 \| softhsm \| [\d,]+ \|/);
  });

  it('a bad workload is a usage error (exit 2) from the command', () => {
    const r = spawnSync(process.execPath, [BIN, 'bench', file('bad.yaml', 'operations: [sign:rot13]\n')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).data.message).toMatch(/unknown algorithm 'rot13'/);
    expect(spawnSync(process.execPath, [BIN, 'bench', file('bad2.yaml', '- just a list\n')], { encoding: 'utf8' }).status).toBe(2);
  });
});

describe('a run on every backend', () => {
  it.skipIf(!softhsm)('client, module, node and SoftHSMv2: JSON lines, markdown and an HTML report', () => {
    mkdirSync(join(dir, 'tokens'));
    const conf = file('softhsm2.conf', `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    const env = { ...process.env, SOFTHSM2_CONF: conf, SEALHSM_BENCH_PIN: '5678' };
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--so-pin', '1234', '--pin', '5678'], { env, stdio: 'pipe' });
    const w = file('tiny.yaml', [
      'name: tiny', `backends: [client, module, node, "pkcs11:${SOFTHSM}"]`, 'concurrency: [1, 2]', 'count: 40', 'warmup: 0',
      'operations: [sign:ecdsa-p256, verify:rsa2048-pkcs1, "encrypt:aes256-gcm:256", "hmac:hmac-sha256:256", digest:sha256, wrap:aes256-kw, derive:ecdh-p256, find:label, generate:aes256-gcm, decrypt:rsa2048-oaep]', '',
    ].join('\n'));
    const r = spawnSync(process.execPath, [BIN, 'bench', w, '--jsonl', file('out.jsonl'), '--markdown', file('out.md'), '--html', file('out.html'), '--target-rate', '3000'], { encoding: 'utf8', env });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // no progress bar when stderr is not a terminal

    const lines = readFileSync(file('out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'machine', workload: 'tiny', baseline: 'node', cores: expect.any(Number), node: process.version, openssl: expect.any(String), cpu: expect.any(String) });
    const results = lines.filter((l) => l.type === 'result');
    for (const row of results) {
      expect(Object.keys(row).sort()).toEqual(expect.arrayContaining(['backend', 'operation', 'concurrency', 'opsPerSecond', 'p50', 'p90', 'p99', 'p999', 'cpuMsPerOp', 'peakRssMiB', 'operations', 'errors']));
      for (const k of ['opsPerSecond', 'p50', 'p90', 'p99', 'p999', 'cpuMsPerOp', 'peakRssMiB', 'operations']) expect(typeof row[k], `${k} of ${JSON.stringify(row)}`).toBe('number');
      expect(row.errors, JSON.stringify(row)).toEqual({});
      expect((row.p50 as number) <= (row.p99 as number)).toBe(true);
    }
    const backends = new Set(results.map((x) => x.backend));
    expect([...backends].sort()).toEqual(['client', 'module', 'node', 'pkcs11:libsofthsm2.so']);
    expect(results.filter((x) => x.backend === 'client')).toHaveLength(20); // 10 operations × 2 concurrency levels
    expect(results.find((x) => x.backend === 'client' && x.operation === 'sign:ecdsa-p256:64' && x.concurrency === 2)!.ratio).toEqual(expect.any(Number));
    const skipped = lines.filter((l) => l.type === 'not-applicable');
    expect(skipped).toContainEqual(expect.objectContaining({ backend: 'node', operation: 'find:label' }));
    expect(skipped).toContainEqual(expect.objectContaining({ backend: 'pkcs11:libsofthsm2.so', operation: 'decrypt:rsa2048-oaep:64' }));
    expect(lines.find((l) => l.type === 'capacity')).toMatchObject({ hsmType: 'hsm2m.medium', targetRate: 3000, hsms: 1, recommended: 2 });
    expect(lines.some((l) => l.type === 'note' && String(l.note).includes('ECDSA over a digest'))).toBe(true);

    const md = readFileSync(file('out.md'), 'utf8');
    expect(md).toContain('| operation | conc. | backend | ops/s | ratio |');
    expect(md).toMatch(/\| sign:ecdsa-p256:64 \| 2 \| pkcs11:libsofthsm2\.so \| [\d,]+ \|/);
    expect(r.stdout.trim()).toBe(md.trim());
    const page = readFileSync(file('out.html'), 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page.match(/<svg /g)?.length).toBe(20); // a throughput and a latency chart per operation
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // self-contained
  });

  it('flags alone make a workload, and --jsonl - streams JSON lines to stdout', () => {
    const r = spawnSync(process.execPath, [BIN, 'bench', '--op', 'sign:ed25519', 'digest:sha512:1024', '--backends', 'client,node', '--concurrency', '1', '--count', '20', '--warmup', '0', '--jsonl', '-'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; operation?: string });
    expect(lines.filter((l) => l.type === 'result').map((l) => l.operation).sort()).toEqual(['digest:sha512:1024', 'digest:sha512:1024', 'sign:ed25519:64', 'sign:ed25519:64']);
  });
});

describe('the kms backend', () => {
  it('runs GenerateDataKey, Encrypt, Decrypt and Sign through the AWS SDK against the endpoint', () => {
    const r = spawnSync(process.execPath, [BIN, 'bench', '--op', 'generate:aes256-gcm', 'encrypt:aes256-gcm:512', 'decrypt:aes256-gcm:512', 'sign:ecdsa-p256', 'digest:sha256',
      '--backends', 'kms', '--separate', '--concurrency', '2', '--count', '20', '--warmup', '0', '--jsonl', '-'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; operation?: string; errors?: object; operations?: number });
    const results = lines.filter((l) => l.type === 'result');
    expect(results.map((l) => l.operation)).toEqual(['generate:aes256-gcm', 'encrypt:aes256-gcm:512', 'decrypt:aes256-gcm:512', 'sign:ecdsa-p256:64']);
    for (const row of results) expect([row.errors, row.operations]).toEqual([{}, 20]);
    expect(lines).toContainEqual(expect.objectContaining({ type: 'not-applicable', backend: 'kms', operation: 'digest:sha256:64' }));
  });
});

describe('CloudHSM capacity', () => {
  it('uses AWS\'s published per-HSM rates, N+1, and lists what AWS does not publish', () => {
    const w = workload({ operations: ['sign:ecdsa-p256:64:1', 'sign:rsa2048-pkcs1:64:1', 'encrypt:aes256-gcm'] });
    const c = capacity(w, 3000, 'hsm2m.medium');
    expect(c.published).toEqual([
      { operation: 'sign:ecdsa-p256', opsPerSecond: 1000, perHsm: 1500, hsms: 0.67 },
      { operation: 'sign:rsa2048-pkcs1', opsPerSecond: 1000, perHsm: 1000, hsms: 1 },
    ]);
    expect([c.hsms, c.recommended, c.notPublished]).toEqual([2, 3, ['encrypt:aes256-gcm']]);
    expect(capacity(workload({ operations: ['sign:ecdsa-p256'] }), 1000, 'hsm1.medium')).toMatchObject({ hsms: 4, recommended: 5 });
    expect(() => capacity(w, 0, 'hsm2m.medium')).toThrow(RangeError);
  });
});
