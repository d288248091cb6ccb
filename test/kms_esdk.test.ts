// test/kms_esdk.test.ts — the AWS Encryption SDK (@aws-crypto/client-node) on sealhsm's KMS endpoint:
// KmsKeyringNode over 1 MiB and over a stream, a keyring of several keys, the caching materials
// manager (fewer GenerateDataKey calls, seen in the audit log), and a wrong encryption context.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { buildClient, CommitmentPolicy, getLocalCryptographicMaterialsCache, KmsKeyringNode, NodeCachingMaterialsManager } from '@aws-crypto/client-node';
import { KMS } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startKmsServer, type KmsServer, type SealHsm } from '../src/index.js';
import { cryptoUser } from './helpers/hsm.js';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';
const CREDS = { accessKeyId: 'AKIDESDKTEST', secretAccessKey: 'esdk-secret' };
const dir = mkdtempSync(join(tmpdir(), 'sealhsm-esdk-'));
let hsm: SealHsm;
let server: KmsServer;
let kms: KMS;
let keyA: string;
let keyB: string;
const { encrypt, decrypt, encryptStream, decryptUnsignedMessageStream, decryptStream } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
void decryptUnsignedMessageStream;

beforeAll(async () => {
  hsm = await cryptoUser('cloudhsm');
  server = await startKmsServer({ hsm, credentials: [{ ...CREDS, account: '111122223333' }], throttling: false, auditLog: join(dir, 'audit.jsonl') });
  kms = new KMS({ region: 'us-east-1', endpoint: server.url, credentials: CREDS });
  keyA = (await kms.createKey({ Description: 'esdk generator' })).KeyMetadata!.Arn!;
  keyB = (await kms.createKey({ Description: 'esdk second key' })).KeyMetadata!.Arn!;
});
afterAll(async () => {
  await server.close();
  hsm.close();
  rmSync(dir, { recursive: true, force: true });
});

// The ESDK's client type lags the SDK's; the aggregated KMS client is what it calls (spec/kms.md §4).
const clientProvider = (() => kms) as unknown as NonNullable<NonNullable<ConstructorParameters<typeof KmsKeyringNode>[0]>['clientProvider']>;
const keyring = (generatorKeyId: string, keyIds: string[] = []) => new KmsKeyringNode({ generatorKeyId, keyIds, clientProvider });
const audited = (name: string) => readFileSync(server.auditLog!, 'utf8').trim().split('\n').filter((l) => (JSON.parse(l) as { eventName: string }).eventName === name).length;

describe('the AWS Encryption SDK with KmsKeyringNode', () => {
  it('encrypts and decrypts 1 MiB; the encryption context comes back; a changed message fails', async () => {
    const data = randomBytes(1024 * 1024);
    const ctx = { tenant: 't-1', purpose: 'esdk' };
    const { result } = await encrypt(keyring(keyA), data, { encryptionContext: ctx });
    const back = await decrypt(keyring(keyA), result);
    expect(Buffer.from(back.plaintext).equals(data)).toBe(true);
    expect(back.messageHeader.encryptionContext).toMatchObject(ctx);
    expect(back.messageHeader.encryptedDataKeys[0]!.providerInfo).toBe(keyA);
    const bad = Buffer.from(result);
    bad[bad.length - 200]! ^= 1;
    await expect(decrypt(keyring(keyA), bad)).rejects.toThrow();
  });

  it('streams: encryptStream and decryptStream over 3 MiB', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const sealed: Buffer[] = [];
    await pipeline(Readable.from([data.subarray(0, 1e6), data.subarray(1e6)]), encryptStream(keyring(keyA), { encryptionContext: { stream: 'yes' } }), async function* (src) {
      for await (const chunk of src) sealed.push(chunk as Buffer);
    });
    const opened: Buffer[] = [];
    await pipeline(Readable.from([Buffer.concat(sealed)]), decryptStream(keyring(keyA)), async function* (src) {
      for await (const chunk of src) opened.push(chunk as Buffer);
    });
    expect(Buffer.concat(opened).equals(data)).toBe(true);
  });

  it('a keyring of two keys: one GenerateDataKey and one Encrypt; either key alone decrypts', async () => {
    const gdk = audited('GenerateDataKey');
    const enc = audited('Encrypt');
    const { result, messageHeader } = await encrypt(keyring(keyA, [keyB]), Buffer.from('for two keys'));
    expect(messageHeader.encryptedDataKeys.map((k) => k.providerInfo)).toEqual([keyA, keyB]);
    expect([audited('GenerateDataKey') - gdk, audited('Encrypt') - enc]).toEqual([1, 1]);
    expect(Buffer.from((await decrypt(keyring(keyB), result)).plaintext).toString()).toBe('for two keys');
    expect(Buffer.from((await decrypt(keyring(keyA), result)).plaintext).toString()).toBe('for two keys');
  });

  it('the caching materials manager reuses a data key: fewer GenerateDataKey calls in the audit log', async () => {
    const cmm = new NodeCachingMaterialsManager({ backingMaterials: keyring(keyA), cache: getLocalCryptographicMaterialsCache(100), maxAge: 60_000, maxMessagesEncrypted: 10, partition: 'test' });
    const before = audited('GenerateDataKey');
    for (let i = 0; i < 10; i++) await encrypt(cmm, Buffer.from(`message ${i}`), { encryptionContext: { table: 'orders' } });
    expect(audited('GenerateDataKey') - before).toBe(1);
    const uncached = audited('GenerateDataKey');
    for (let i = 0; i < 3; i++) await encrypt(keyring(keyA), Buffer.from(`message ${i}`), { encryptionContext: { table: 'orders' } });
    expect(audited('GenerateDataKey') - uncached).toBe(3);
  });

  it('a message whose EDK is decrypted under another encryption context fails in KMS (InvalidCiphertextException)', async () => {
    const { result, messageHeader } = await encrypt(keyring(keyA), Buffer.from('bound'), { encryptionContext: { owner: 'alice' } });
    const edk = messageHeader.encryptedDataKeys[0]!;
    const err = await kms.decrypt({ CiphertextBlob: edk.encryptedDataKey, KeyId: keyA, EncryptionContext: { owner: 'mallory' } }).catch((e: Error) => e);
    expect((err as Error).name).toBe('InvalidCiphertextException');
    expect(Buffer.from((await decrypt(keyring(keyA), result)).plaintext).toString()).toBe('bound');
    // a keyring whose key is disabled cannot decrypt
    await kms.disableKey({ KeyId: keyA });
    await expect(decrypt(keyring(keyA), result)).rejects.toThrow();
    await kms.enableKey({ KeyId: keyA });
  });
});
