// test/kms_cli.test.ts — `sealhsm kms serve` on a persistent token as its own process, called by the
// SDK and by the AWS CLI; then `sealhsm kms audit verify` on the log it wrote, before and after an edit.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { KMS } from '@aws-sdk/client-kms';
import { afterAll, describe, expect, it } from 'vitest';

import { hasProgram } from './helpers/programs.js';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';
const BIN = fileURLToPath(new URL('../bin/sealhsm.mjs', import.meta.url));
const base = mkdtempSync(join(tmpdir(), 'sealhsm-kms-cli-'));
const dir = join(base, 'token');
const CREDS = { accessKeyId: 'AKIDCLITEST', secretAccessKey: 'cli-secret' };
const env = { ...process.env, SEALHSM_TOKEN: dir, SEALHSM_PIN: 'kmsuser:kmsuser-password' };
let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

// A time limit, so a server that should have refused to start fails the test instead of hanging it.
const sealhsm = (args: string[], extra: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...env, ...extra }, timeout: 60_000, killSignal: 'SIGKILL' });

async function serve(): Promise<string> {
  const creds = join(base, 'credentials.yaml');
  writeFileSync(creds, `accessKeys:\n  - accessKeyId: ${CREDS.accessKeyId}\n    secretAccessKey: ${CREDS.secretAccessKey}\n    account: "123456789012"\n`);
  server = spawn(process.execPath, [BIN, 'kms', 'serve', '--port', '0', '--credentials', creds], { env });
  return new Promise((resolve, reject) => {
    let out = '';
    server!.stdout!.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n')[0]!;
      if (out.includes('\n')) resolve((JSON.parse(line) as { data: { url: string } }).data.url);
    });
    server!.on('exit', (code) => reject(new Error(`kms serve exited ${code}: ${out}`)));
  });
}

describe('sealhsm kms serve / audit verify', () => {
  it('serves the token\'s keys to the SDK (and the AWS CLI), and verifies its audit log', async () => {
    const init = sealhsm(['init', '--crypto-user', 'kmsuser'], { SEALHSM_ADMIN_PASSWORD: 'admin-password', SEALHSM_PASSWORD: 'kmsuser-password' });
    expect(init.status, init.stdout + init.stderr).toBe(0);
    const url = await serve();
    // A second server on the same token is refused, naming the process that serves it: two would
    // split the keys, aliases and audit chain between them.
    const second = sealhsm(['kms', 'serve', '--port', '0', '--allow-unsigned']);
    expect(second.status).not.toBe(0);
    expect(second.stdout + second.stderr).toContain(`served by 'kms' in process ${server!.pid}`);
    const kms = new KMS({ region: 'eu-west-1', endpoint: url, credentials: CREDS });
    const { KeyMetadata } = await kms.createKey({ Description: 'from the CLI test' });
    expect(KeyMetadata!.Arn).toBe(`arn:aws:kms:eu-west-1:123456789012:key/${KeyMetadata!.KeyId}`);
    const ct = await kms.encrypt({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from('over the wire') });
    expect(Buffer.from((await kms.decrypt({ CiphertextBlob: ct.CiphertextBlob })).Plaintext!).toString()).toBe('over the wire');

    if (hasProgram('aws', 'awscli')) {
      const plain = join(base, 'plain.txt');
      writeFileSync(plain, 'from the AWS CLI');
      const awsEnv = { ...process.env, AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey, AWS_DEFAULT_REGION: 'eu-west-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '' };
      const aws = (args: string[]) => spawnSync('aws', ['kms', ...args, '--endpoint-url', url, '--output', 'json'], { encoding: 'utf8', env: awsEnv });
      const enc = aws(['encrypt', '--key-id', KeyMetadata!.KeyId!, '--plaintext', `fileb://${plain}`, '--encryption-context', 'app=cli']);
      expect(enc.status, enc.stderr).toBe(0);
      const blob = join(base, 'blob.bin');
      writeFileSync(blob, Buffer.from((JSON.parse(enc.stdout) as { CiphertextBlob: string }).CiphertextBlob, 'base64'));
      const dec = aws(['decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'app=cli']);
      expect(dec.status, dec.stderr).toBe(0);
      expect(Buffer.from((JSON.parse(dec.stdout) as { Plaintext: string }).Plaintext, 'base64').toString()).toBe('from the AWS CLI');
      const wrong = aws(['decrypt', '--ciphertext-blob', `fileb://${blob}`]);
      expect(wrong.stderr).toContain('InvalidCiphertextException');
    }

    // A server killed outright leaves no claim behind: the kernel drops its lock.
    server!.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    await serve();
    server!.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
    server = undefined;
    const ok = sealhsm(['kms', 'audit', 'verify']);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const verified = JSON.parse(ok.stdout) as { data: { records: number; verified: boolean } };
    expect(verified.data.verified).toBe(true);
    expect(verified.data.records).toBeGreaterThanOrEqual(3);
    const log = join(dir, 'kms-audit.jsonl');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const edited = JSON.parse(lines[1]!) as { eventName: string };
    edited.eventName = 'ListKeys';
    writeFileSync(log, `${[lines[0], JSON.stringify(edited), ...lines.slice(2)].join('\n')}\n`);
    const broken = sealhsm(['kms', 'audit', 'verify']);
    expect(broken.status).toBe(1);
    expect((JSON.parse(broken.stdout) as { data: { error: string; message: string } }).data).toMatchObject({ error: 'SEALHSM_AUDIT_BROKEN', message: expect.stringContaining('line 2: the record was changed') });
    expect(sealhsm(['kms', 'serve']).status).toBe(2); // neither credentials nor --allow-unsigned
  });
});
