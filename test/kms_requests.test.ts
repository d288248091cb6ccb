// test/kms_requests.test.ts — the AWS request pipeline as an attacker on the network meets it: a
// signature covers the body it came with, the whole credential scope and the Host, session tokens,
// dispatch on the service's own operations only, the protocol's Content-Type, deadlines and
// connection caps, and DryRun that answers after every check with no effect and no secret.

import { request } from 'node:http';
import { createConnection, type Socket } from 'node:net';

import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { KMS } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startKmsServer, type KmsServer, type SealHsm } from '../src/index.js';
import { cryptoUser, nameOf } from './helpers/hsm.js';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';
const CREDS = { accessKeyId: 'AKIDPIPELINE', secretAccessKey: 'pipeline-secret' };
const TEMP = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret', sessionToken: 'the-real-session-token' };
let hsm: SealHsm;
let server: KmsServer;
let kms: KMS;
let host: string;

beforeAll(async () => {
  hsm = await cryptoUser('cloudhsm');
  server = await startKmsServer({
    hsm, throttling: false, auditLog: false, regions: ['us-east-1', 'eu-west-1'],
    credentials: [{ ...CREDS, account: '111122223333' }, { ...TEMP, account: '111122223333' }],
  });
  kms = new KMS({ region: 'us-east-1', endpoint: server.url, credentials: CREDS, maxAttempts: 1 });
  host = new URL(server.url).host;
});
afterAll(async () => {
  await server.close();
  hsm.close();
});

interface Signing {
  region?: string;
  service?: string;
  creds?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  headers?: Record<string, string>;
  date?: Date;
}

/** A request signed as the SDK signs it (x-amz-content-sha256 included unless `bodyHashHeader` is false). */
async function signed(op: string, body: string, o: Signing & { bodyHashHeader?: boolean } = {}): Promise<Record<string, string>> {
  const headers: Record<string, string> = { host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${op}`, ...o.headers };
  const signer = new SignatureV4({
    credentials: o.creds ?? CREDS, region: o.region ?? 'us-east-1', service: o.service ?? 'kms', sha256: Hash.bind(null, 'sha256'), applyChecksum: o.bodyHashHeader !== false,
  });
  const req = await signer.sign(new HttpRequest({ method: 'POST', protocol: 'http:', hostname: host.split(':')[0]!, port: Number(host.split(':')[1]), path: '/', headers, body }), { signingDate: o.date ?? new Date() });
  return req.headers;
}

/** Sends exactly these headers (fetch would set Host itself). */
function send(headers: Record<string, string>, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(server.url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const typeOf = async (headers: Record<string, string>, body: string) => (await send(headers, body)).json.__type;

describe('a signature covers the body it came with', () => {
  it('the headers of one signed Decrypt(X) do not open Y; ScheduleKeyDeletion(K1) headers do not schedule K2', async () => {
    const k = (await kms.createKey({})).KeyMetadata!.KeyId!;
    const x = (await kms.encrypt({ KeyId: k, Plaintext: Buffer.from('x') })).CiphertextBlob!;
    const y = (await kms.encrypt({ KeyId: k, Plaintext: Buffer.from('the secret y') })).CiphertextBlob!;
    const bodyX = JSON.stringify({ CiphertextBlob: Buffer.from(x).toString('base64') });
    const bodyY = JSON.stringify({ CiphertextBlob: Buffer.from(y).toString('base64') });
    for (const bodyHashHeader of [true, false]) {
      const h = await signed('Decrypt', bodyX, { bodyHashHeader });
      const honest = await send(h, bodyX);
      expect(Buffer.from(honest.json.Plaintext as string, 'base64').toString()).toBe('x');
      const swapped = await send(h, bodyY);
      expect(swapped.status).toBe(400);
      expect(swapped.json.__type).toBe('InvalidSignatureException');
      expect(JSON.stringify(swapped.json)).not.toContain(Buffer.from('the secret y').toString('base64'));
    }
    const k1 = (await kms.createKey({})).KeyMetadata!.KeyId!, k2 = (await kms.createKey({})).KeyMetadata!.KeyId!;
    const h = await signed('ScheduleKeyDeletion', JSON.stringify({ KeyId: k1, PendingWindowInDays: 7 }));
    expect(await typeOf(h, JSON.stringify({ KeyId: k2, PendingWindowInDays: 7 }))).toBe('InvalidSignatureException');
    expect((await kms.describeKey({ KeyId: k2 })).KeyMetadata!.KeyState).toBe('Enabled');
  });

  it('UNSIGNED-PAYLOAD and streaming payloads are refused', async () => {
    const body = '{}';
    for (const v of ['UNSIGNED-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD']) {
      const h = await signed('ListKeys', body, { headers: { 'x-amz-content-sha256': v } });
      const r = await send(h, body);
      expect([r.json.__type, r.json.message]).toEqual(['InvalidSignatureException', expect.stringMatching(/signed payload/)]);
    }
  });
});

describe('the credential scope, the Host and the session token', () => {
  it('a service, Region or date the request is not for; a Host the server is not', async () => {
    const body = '{}';
    expect(await typeOf(await signed('ListKeys', body, { service: 'secretsmanager' }), body)).toBe('InvalidSignatureException');
    const wrongRegion = await send(await signed('ListKeys', body, { region: 'xx-nowhere-9' }), body);
    expect([wrongRegion.json.__type, wrongRegion.json.message]).toEqual(['InvalidSignatureException', expect.stringMatching(/valid region/)]);
    expect(await typeOf(await signed('ListKeys', body, { region: 'ap-south-1' }), body)).toBe('InvalidSignatureException'); // a real Region not served
    expect((await send(await signed('ListKeys', body, { region: 'eu-west-1' }), body)).status).toBe(200);
    // The scope's date against X-Amz-Date: sign for yesterday, then claim today.
    const h = await signed('ListKeys', body, { date: new Date(Date.now() - 86400_000) });
    const today = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    const dated = await send({ ...h, 'x-amz-date': today }, body);
    expect([dated.json.__type, dated.json.message]).toEqual(['InvalidSignatureException', expect.stringMatching(/Date in Credential scope does not match/)]);
    const elsewhere = await signed('ListKeys', body, { headers: { host: 'kms.attacker.example' } });
    const r = await send({ ...elsewhere }, body);
    expect([r.json.__type, r.json.message]).toEqual(['InvalidSignatureException', expect.stringMatching(/Host 'kms.attacker.example'/)]);
  });

  it('a session token is refused unless the credentials give that key one, and then it must match', async () => {
    expect(await nameOf(new KMS({ region: 'us-east-1', endpoint: server.url, credentials: { ...CREDS, sessionToken: 'made-up' }, maxAttempts: 1 }).listKeys({}))).toBe('UnrecognizedClientException');
    const temp = new KMS({ region: 'us-east-1', endpoint: server.url, credentials: TEMP, maxAttempts: 1 });
    expect((await temp.listKeys({})).$metadata.httpStatusCode).toBe(200);
    expect(await nameOf(new KMS({ region: 'us-east-1', endpoint: server.url, credentials: { ...TEMP, sessionToken: 'the-real-session-tokeN' }, maxAttempts: 1 }).listKeys({}))).toBe('UnrecognizedClientException');
    const { sessionToken: _, ...noToken } = TEMP;
    expect(await nameOf(new KMS({ region: 'us-east-1', endpoint: server.url, credentials: noToken, maxAttempts: 1 }).listKeys({}))).toBe('UnrecognizedClientException');
  });
});

describe('dispatch, framing and deadlines', () => {
  it('only the service\'s own operations: Object.prototype names are UnknownOperationException; KMS operations not here are Unsupported', async () => {
    for (const op of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const r = await send(await signed(op, '{}'), '{}');
      expect([op, r.status, r.json.__type]).toEqual([op, 400, 'UnknownOperationException']);
    }
    expect(await typeOf(await signed('Constructor', '{}'), '{}')).toBe('UnknownOperationException');
    expect(await typeOf(await signed('CreateGrant', '{}'), '{}')).toBe('UnsupportedOperationException');
  });

  it('the JSON 1.1 Content-Type, or SerializationException', async () => {
    for (const type of ['text/plain', 'application/json']) {
      const h = await signed('ListKeys', '{}', { headers: { 'content-type': type } });
      expect(await typeOf(h, '{}')).toBe('SerializationException');
    }
    expect((await send(await signed('ListKeys', '{}', { headers: { 'content-type': 'application/x-amz-json-1.1; charset=utf-8' } }), '{}')).status).toBe(200);
  });

  const closedWithin = (socket: Socket, ms: number) => new Promise<number>((resolve, reject) => {
    const t0 = Date.now();
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.on('error', () => undefined);
    socket.resume(); // read what the server sends (a 408), so its close arrives
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
  const connect = (port: number) => new Promise<Socket>((resolve) => {
    const s = createConnection(port, '127.0.0.1', () => resolve(s));
  });
  // Its own endpoint, with short deadlines and a small cap, so the SDK's pooled sockets elsewhere do not count.
  async function limited<T>(f: (s: KmsServer) => Promise<T>): Promise<T> {
    const s = await startKmsServer({ hsm, throttling: false, auditLog: false, credentials: [{ ...CREDS, account: '111122223333' }], requestTimeoutMs: 1500, headersTimeoutMs: 1000, maxConnectionsPerClient: 4 });
    try {
      return await f(s);
    } finally {
      await s.close();
    }
  }

  it('a body sent a byte a second is cut at the request deadline; headers that never end at the header deadline', async () => {
    await limited(async (s) => {
      const slow = await connect(s.port);
      slow.write(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: 100\r\n\r\n`);
      const drip = setInterval(() => slow.writable && slow.write('x'), 300);
      try {
        // The deadline is 1.5 s: the connection is cut after it (Node checks deadlines every few hundred ms), long before the 100 bytes are in.
        expect(await closedWithin(slow, 20_000)).toBeGreaterThanOrEqual(1000);
      } finally {
        clearInterval(drip);
      }
      const silent = await connect(s.port);
      silent.write(`POST / HTTP/1.1\r\nHost: ${host}\r\n`);
      expect(await closedWithin(silent, 20_000)).toBeGreaterThanOrEqual(700);
    });
  });

  it('connections from one address past the cap are closed at once; the others are served', async () => {
    await limited(async (s) => {
      const sockets: Socket[] = [];
      for (let i = 0; i < 6; i++) sockets.push(await connect(s.port));
      const closed = await Promise.all(sockets.map((x) => closedWithin(x, 500).then(() => true, () => false)));
      expect(closed).toEqual([false, false, false, false, true, true]);
      for (const x of sockets) x.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const c = new KMS({ region: 'us-east-1', endpoint: s.url, credentials: CREDS, maxAttempts: 1 });
      expect((await c.listKeys({})).$metadata.httpStatusCode).toBe(200);
      c.destroy();
    });
  });
});

describe('DryRun', () => {
  it('answers DryRunOperationException after every check, with no effect and no secret', async () => {
    const sym = (await kms.createKey({})).KeyMetadata!.KeyId!;
    const ec = (await kms.createKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata!.KeyId!;
    const hmac = (await kms.createKey({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })).KeyMetadata!.KeyId!;
    const ct = (await kms.encrypt({ KeyId: sym, Plaintext: Buffer.from('dry') })).CiphertextBlob!;
    const sig = (await kms.sign({ KeyId: ec, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })).Signature!;
    const mac = (await kms.generateMac({ KeyId: hmac, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' })).Mac!;
    const before = (await kms.listKeys({})).Keys!.length;
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['Encrypt', () => kms.encrypt({ KeyId: sym, Plaintext: Buffer.from('p'), DryRun: true })],
      ['Decrypt', () => kms.decrypt({ CiphertextBlob: ct, DryRun: true })],
      ['ReEncrypt', () => kms.reEncrypt({ CiphertextBlob: ct, DestinationKeyId: sym, DryRun: true })],
      ['GenerateDataKey', () => kms.generateDataKey({ KeyId: sym, KeySpec: 'AES_256', DryRun: true })],
      ['GenerateDataKeyWithoutPlaintext', () => kms.generateDataKeyWithoutPlaintext({ KeyId: sym, KeySpec: 'AES_256', DryRun: true })],
      ['GenerateDataKeyPair', () => kms.generateDataKeyPair({ KeyId: sym, KeyPairSpec: 'ECC_NIST_P256', DryRun: true })],
      ['GenerateDataKeyPairWithoutPlaintext', () => kms.generateDataKeyPairWithoutPlaintext({ KeyId: sym, KeyPairSpec: 'ECC_NIST_P256', DryRun: true })],
      ['Sign', () => kms.sign({ KeyId: ec, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true })],
      ['Verify', () => kms.verify({ KeyId: ec, Message: Buffer.from('m'), Signature: sig, SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true })],
      ['GenerateMac', () => kms.generateMac({ KeyId: hmac, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256', DryRun: true })],
      ['VerifyMac', () => kms.verifyMac({ KeyId: hmac, Message: Buffer.from('m'), Mac: mac, MacAlgorithm: 'HMAC_SHA_256', DryRun: true })],
    ];
    for (const [op, f] of calls) {
      const e = (await f().then(() => undefined, (x: unknown) => x)) as { name: string; $response?: unknown } | undefined;
      expect([op, e?.name]).toEqual([op, 'DryRunOperationException']);
    }
    // No secret in the raw answer either.
    const raw = await send(await signed('GenerateDataKey', JSON.stringify({ KeyId: sym, KeySpec: 'AES_256', DryRun: true })), JSON.stringify({ KeyId: sym, KeySpec: 'AES_256', DryRun: true }));
    expect(Object.keys(raw.json).sort()).toEqual(['__type', 'message']);
    expect((await kms.listKeys({})).Keys!.length).toBe(before);
    // The checks come first: a wrong signature, a disabled key, a bad DryRun value.
    expect(await nameOf(kms.verify({ KeyId: ec, Message: Buffer.from('other'), Signature: sig, SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true }))).toBe('KMSInvalidSignatureException');
    await kms.disableKey({ KeyId: sym });
    expect(await nameOf(kms.encrypt({ KeyId: sym, Plaintext: Buffer.from('p'), DryRun: true }))).toBe('DisabledException');
    await kms.enableKey({ KeyId: sym });
    const bad = JSON.stringify({ KeyId: sym, Plaintext: Buffer.from('p').toString('base64'), DryRun: 'yes' });
    expect(await typeOf(await signed('Encrypt', bad), bad)).toBe('SerializationException');
  });
});
