// src/cli/commands/kms.ts
//
// `sealhsm kms serve`: the KMS-compatible endpoint on a token directory, logged in as its KMS crypto
// user (SEALHSM_PIN), until SIGINT or SIGTERM. `sealhsm kms audit verify`: checks the audit log's
// chain with the HSM key and the token's checkpoint.

import { join } from 'node:path';

import type { Command } from 'commander';

import { AuditLog } from '../../kms/audit.js';
import { startKmsServer } from '../../kms/server.js';
import { KmsStore } from '../../kms/store.js';
import { CliError, EXIT, type Runtime } from '../runtime.js';
import { action } from './common.js';

const number = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new CliError('SEALHSM_USAGE', `${name} is a non-negative number`, EXIT.usage);
  return n;
};

export function registerKms(program: Command, rt: Runtime): void {
  const kms = program.command('kms').description('a KMS-compatible endpoint on the token');
  kms.command('serve').description('serve KMS\'s JSON protocol (TrentService) until interrupted; log in with SEALHSM_PIN=<kms user>:<password>')
    .option('--port <port>', 'TCP port', number('--port'), 4599)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--region <region>', 'the Region of unsigned requests (--allow-unsigned)', 'us-east-1')
    .option('--regions <list>', 'the Regions served, comma-separated (default: every Region of AWS\'s commercial partition); requests signed for another are refused')
    .option('--hostname <name...>', 'names (or name:port) a signed Host may carry besides the address listened on, localhost and 127.0.0.1')
    .option('--credentials <file>', 'access keys that may call: YAML/JSON accessKeys: [{ accessKeyId, secretAccessKey, account }]')
    .option('--allow-unsigned', 'accept unsigned requests and check no signature (throwaway tests only)')
    .option('--no-throttling', 'do not apply KMS\'s request quotas')
    .option('--audit-log <file>', 'the audit log (default: kms-audit.jsonl in the token directory)')
    .option('--inject-throttle-rate <p>', 'answer this share of requests (0..1) with ThrottlingException', number('--inject-throttle-rate'))
    .option('--inject-latency-ms <ms>', 'delay every request', number('--inject-latency-ms'))
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      const g = cmd.optsWithGlobals() as { dir?: string };
      const hsm = await rt.loggedIn(g, 'crypto-user');
      if (o.credentials === undefined && !o.allowUnsigned) throw new CliError('SEALHSM_USAGE', 'give --credentials <file> (access keys that may call), or --allow-unsigned for a throwaway endpoint', EXIT.usage);
      const server = await startKmsServer({
        hsm, port: o.port as number, host: o.host as string, region: o.region as string, tokenDir: rt.tokenDir(g),
        ...(o.regions !== undefined && { regions: String(o.regions).split(',') }), ...(o.hostname !== undefined && { hostnames: o.hostname as string[] }),
        ...(o.credentials !== undefined && { credentials: o.credentials as string }), allowUnsigned: Boolean(o.allowUnsigned),
        throttling: o.throttling !== false, ...(o.auditLog !== undefined && { auditLog: o.auditLog as string }), warn: (m) => rt.io.err(m),
      });
      server.faults.throttleRate = (o.injectThrottleRate as number | undefined) ?? 0;
      server.faults.latencyMs = (o.injectLatencyMs as number | undefined) ?? 0;
      rt.io.out(JSON.stringify({ error_code: 0, data: { url: server.url, 'audit-log': server.auditLog ?? null, user: hsm.currentUser?.username } }));
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
  kms.command('audit').description('the audit log').command('verify')
    .description('check that no record of the audit log was changed, removed, reordered or cut off (log in as the KMS user)')
    .option('--audit-log <file>', 'the log (default: kms-audit.jsonl in the token directory)')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.loggedIn(g, 'crypto-user');
      const store = await KmsStore.open(hsm);
      try {
        const path = (o.auditLog as string | undefined) ?? join(rt.tokenDir(g), 'kms-audit.jsonl');
        const r = await AuditLog.verify(path, store);
        if (!r.ok) throw new CliError('SEALHSM_AUDIT_BROKEN', `${path}: ${r.problem} (${r.records} records verified before it)`);
        return { data: { 'audit-log': path, records: r.records, verified: true }, text: `${path}: ${r.records} records, chain intact` };
      } finally {
        store.close();
      }
    }));
}
