// test/kms.test.ts — the KMS endpoint judged by AWS's own clients: @aws-sdk/client-kms for every
// operation, its errors, throttling and retries; the key-state machine and rotation with a movable
// clock; SigV4; the audit log; several processes at once. (The Encryption SDK: kms_esdk.test.ts.)

import { spawn } from 'node:child_process';
import { constants, createHash, createPrivateKey, createPublicKey, publicEncrypt, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { InvalidCiphertextException, KMS, KMSServiceException, NotFoundException } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startKmsServer, type KmsServer, type SealHsm } from '../src/index.js';
import { cryptoUser, nameOf } from './helpers/hsm.js';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';
const CREDS = { accessKeyId: 'AKIDSEALHSMTEST', secretAccessKey: 'test-secret-key' };
const dir = mkdtempSync(join(tmpdir(), 'sealhsm-kms-'));
let hsm: SealHsm;
let server: KmsServer;
let kms: KMS;
let clock = Date.now();

beforeAll(async () => {
  hsm = await cryptoUser('cloudhsm');
  server = await startKmsServer({
    hsm, credentials: [{ ...CREDS, account: '111122223333' }, { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other-secret', account: '444455556666' }],
    throttling: false, auditLog: join(dir, 'audit.jsonl'), clock: () => clock,
  });
  kms = client();
});
afterAll(async () => {
  await server.close();
  hsm.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(creds = CREDS, extra: object = {}): KMS {
  return new KMS({ region: 'us-east-1', endpoint: server.url, credentials: creds, maxAttempts: 3, ...extra });
}
const text = (b: Uint8Array | undefined) => Buffer.from(b!).toString();

describe('keys, aliases, tags', () => {
  it('CreateKey for every key spec; DescribeKey; full ARNs and epoch timestamps the SDK reads as Dates', async () => {
    const specs = ['SYMMETRIC_DEFAULT', 'RSA_2048', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'] as const;
    for (const KeySpec of specs) {
      const KeyUsage = KeySpec.startsWith('HMAC') ? 'GENERATE_VERIFY_MAC' : KeySpec.startsWith('ECC') || KeySpec === 'RSA_2048' ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT';
      const { KeyMetadata: m } = await kms.createKey({ KeySpec, KeyUsage, Description: KeySpec });
      expect(m).toMatchObject({ KeySpec, KeyUsage, KeyState: 'Enabled', Enabled: true, Origin: 'AWS_KMS', AWSAccountId: '111122223333', Description: KeySpec });
      expect(m!.Arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${m!.KeyId}`);
      expect(m!.CreationDate).toBeInstanceOf(Date);
      const d = await kms.describeKey({ KeyId: m!.Arn });
      expect(d.KeyMetadata!.KeyId).toBe(m!.KeyId);
    }
    expect(await nameOf(kms.createKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'ENCRYPT_DECRYPT' }))).toBe('ValidationException');
    expect(await nameOf(kms.createKey({ KeySpec: 'ML_DSA_44' as 'RSA_2048' }))).toBe('ValidationException');
    const notFound = await kms.describeKey({ KeyId: '00000000-0000-0000-0000-000000000000' }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(NotFoundException); // the SDK's own exception classes
    expect(notFound).toBeInstanceOf(KMSServiceException);
    expect((notFound as NotFoundException).$metadata.httpStatusCode).toBe(400);
    expect((notFound as NotFoundException).message).toBe("Key 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000' does not exist");
  });

  it('ListKeys pages; another account sees none of these keys', async () => {
    const first = await kms.listKeys({ Limit: 3 });
    expect(first.Keys).toHaveLength(3);
    expect(first.Truncated).toBe(true);
    const rest = await kms.listKeys({ Marker: first.NextMarker! });
    expect(rest.Truncated).toBe(false);
    expect(rest.Keys!.length + 3).toBeGreaterThanOrEqual(10);
    expect((await client({ accessKeyId: 'AKIDOTHER', secretAccessKey: 'other-secret' }).listKeys({})).Keys).toEqual([]);
    expect(await nameOf(client({ accessKeyId: 'AKIDOTHER', secretAccessKey: 'other-secret' }).describeKey({ KeyId: first.Keys![0]!.KeyArn! }))).toBe('NotFoundException');
  });

  it('aliases: create, resolve by name and ARN, update, list, delete; tags and descriptions', async () => {
    const { KeyMetadata: a } = await kms.createKey({});
    const { KeyMetadata: b } = await kms.createKey({});
    await kms.createAlias({ AliasName: 'alias/app', TargetKeyId: a!.KeyId! });
    expect(await nameOf(kms.createAlias({ AliasName: 'alias/app', TargetKeyId: b!.KeyId! }))).toBe('AlreadyExistsException');
    expect(await nameOf(kms.createAlias({ AliasName: 'bad', TargetKeyId: b!.KeyId! }))).toBe('ValidationException');
    expect((await kms.describeKey({ KeyId: 'alias/app' })).KeyMetadata!.KeyId).toBe(a!.KeyId);
    expect((await kms.describeKey({ KeyId: 'arn:aws:kms:us-east-1:111122223333:alias/app' })).KeyMetadata!.KeyId).toBe(a!.KeyId);
    const enc = await kms.encrypt({ KeyId: 'alias/app', Plaintext: Buffer.from('via alias') });
    expect(enc.KeyId).toBe(a!.Arn);
    await kms.updateAlias({ AliasName: 'alias/app', TargetKeyId: b!.Arn! });
    const listed = await kms.listAliases({ KeyId: b!.KeyId! });
    expect(listed.Aliases!.map((x) => x.AliasName)).toEqual(['alias/app']);
    expect(listed.Aliases![0]!.CreationDate).toBeInstanceOf(Date);
    await kms.deleteAlias({ AliasName: 'alias/app' });
    expect(await nameOf(kms.describeKey({ KeyId: 'alias/app' }))).toBe('NotFoundException');

    await kms.tagResource({ KeyId: a!.KeyId!, Tags: [{ TagKey: 'team', TagValue: 'payments' }, { TagKey: 'env', TagValue: 'test' }] });
    await kms.untagResource({ KeyId: a!.KeyId!, TagKeys: ['env'] });
    expect((await kms.listResourceTags({ KeyId: a!.KeyId! })).Tags).toEqual([{ TagKey: 'team', TagValue: 'payments' }]);
    await kms.updateKeyDescription({ KeyId: a!.KeyId!, Description: 'renamed' });
    expect((await kms.describeKey({ KeyId: a!.KeyId! })).KeyMetadata!.Description).toBe('renamed');
  });
});

describe('symmetric encryption and data keys', () => {
  let key: string;
  beforeAll(async () => {
    key = (await kms.createKey({})).KeyMetadata!.Arn!;
  });

  it('Encrypt/Decrypt bind the encryption context exactly and in any order; Decrypt needs no KeyId', async () => {
    const enc = await kms.encrypt({ KeyId: key, Plaintext: Buffer.from('a secret'), EncryptionContext: { tenant: 't-1', purpose: 'test' } });
    expect(enc.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
    const dec = await kms.decrypt({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: 'test', tenant: 't-1' } });
    expect([text(dec.Plaintext), dec.KeyId]).toEqual(['a secret', key]);
    for (const ctx of [{}, { tenant: 't-1' }, { tenant: 'T-1', purpose: 'test' }, { tenant: 't-1', purpose: 'test', extra: 'x' }]) {
      expect(await nameOf(kms.decrypt({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx }))).toBe('InvalidCiphertextException');
    }
    // no separator confusion: {"ab":"c"} is not {"a":"bc"}
    const e2 = await kms.encrypt({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionContext: { ab: 'c' } });
    expect(await nameOf(kms.decrypt({ CiphertextBlob: e2.CiphertextBlob, EncryptionContext: { a: 'bc' } }))).toBe('InvalidCiphertextException');
    expect(await kms.decrypt({ CiphertextBlob: enc.CiphertextBlob }).catch((e: unknown) => e)).toBeInstanceOf(InvalidCiphertextException);
    const tampered = Buffer.from(enc.CiphertextBlob!);
    tampered[tampered.length - 1]! ^= 1;
    expect(await nameOf(kms.decrypt({ CiphertextBlob: tampered, EncryptionContext: { purpose: 'test', tenant: 't-1' } }))).toBe('InvalidCiphertextException');
    expect(await nameOf(kms.decrypt({ CiphertextBlob: Buffer.from('not ours at all') }))).toBe('InvalidCiphertextException');
    const other = (await kms.createKey({})).KeyMetadata!.Arn!;
    expect(await nameOf(kms.decrypt({ CiphertextBlob: enc.CiphertextBlob, KeyId: other, EncryptionContext: { purpose: 'test', tenant: 't-1' } }))).toBe('IncorrectKeyException');
  });

  it('limits: 4,096-byte plaintext, 6,144-byte blob, NumberOfBytes 1..1,024, KeySpec xor NumberOfBytes', async () => {
    expect((await kms.encrypt({ KeyId: key, Plaintext: randomBytes(4096) })).CiphertextBlob!.length).toBeLessThanOrEqual(6144);
    expect(await nameOf(kms.encrypt({ KeyId: key, Plaintext: randomBytes(4097) }))).toBe('ValidationException');
    expect(await nameOf(kms.decrypt({ CiphertextBlob: randomBytes(6145) }))).toBe('ValidationException');
    expect(await nameOf(kms.generateDataKey({ KeyId: key, NumberOfBytes: 1025 }))).toBe('ValidationException');
    expect(await nameOf(kms.generateDataKey({ KeyId: key, NumberOfBytes: 0 }))).toBe('ValidationException');
    expect(await nameOf(kms.generateDataKey({ KeyId: key }))).toBe('ValidationException');
    expect(await nameOf(kms.generateDataKey({ KeyId: key, KeySpec: 'AES_256', NumberOfBytes: 32 }))).toBe('ValidationException');
  });

  it('GenerateDataKey (KeySpec and NumberOfBytes), WithoutPlaintext, ReEncrypt, GenerateRandom', async () => {
    const dk = await kms.generateDataKey({ KeyId: key, KeySpec: 'AES_128', EncryptionContext: { f: '1' } });
    expect(dk.Plaintext).toHaveLength(16);
    expect(Buffer.from((await kms.decrypt({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { f: '1' } })).Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true);
    expect((await kms.generateDataKey({ KeyId: key, NumberOfBytes: 1024 })).Plaintext).toHaveLength(1024);
    const wp = await kms.generateDataKeyWithoutPlaintext({ KeyId: key, NumberOfBytes: 32 });
    expect((wp as { Plaintext?: Uint8Array }).Plaintext).toBeUndefined();
    expect((await kms.decrypt({ CiphertextBlob: wp.CiphertextBlob })).Plaintext).toHaveLength(32);
    const dest = (await kms.createKey({})).KeyMetadata!.Arn!;
    const re = await kms.reEncrypt({ CiphertextBlob: dk.CiphertextBlob, SourceEncryptionContext: { f: '1' }, DestinationKeyId: dest, DestinationEncryptionContext: { g: '2' } });
    expect([re.SourceKeyId, re.KeyId]).toEqual([key, dest]);
    expect(Buffer.from((await kms.decrypt({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { g: '2' } })).Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true);
    const r = await kms.generateRandom({ NumberOfBytes: 64 });
    expect(r.Plaintext).toHaveLength(64);
    expect(await nameOf(kms.generateRandom({ NumberOfBytes: 2000 }))).toBe('ValidationException');
  });

  it('GenerateDataKeyPair returns a working pair whose sealed private key Decrypt opens', async () => {
    for (const KeyPairSpec of ['RSA_2048', 'ECC_NIST_P256', 'ECC_NIST_EDWARDS25519'] as const) {
      const p = await kms.generateDataKeyPair({ KeyId: key, KeyPairSpec, EncryptionContext: { pair: KeyPairSpec } });
      const priv = createPrivateKey({ key: Buffer.from(p.PrivateKeyPlaintext!), format: 'der', type: 'pkcs8' });
      expect(createPublicKey(priv).export({ format: 'der', type: 'spki' }).equals(Buffer.from(p.PublicKey!))).toBe(true);
      const opened = await kms.decrypt({ CiphertextBlob: p.PrivateKeyCiphertextBlob, EncryptionContext: { pair: KeyPairSpec } });
      expect(Buffer.from(opened.Plaintext!).equals(Buffer.from(p.PrivateKeyPlaintext!))).toBe(true);
    }
    const np = await kms.generateDataKeyPairWithoutPlaintext({ KeyId: key, KeyPairSpec: 'ECC_NIST_P384' });
    expect((np as { PrivateKeyPlaintext?: Uint8Array }).PrivateKeyPlaintext).toBeUndefined();
  });
});

describe('asymmetric keys and MACs', () => {
  it('Sign/Verify with RSA (PSS, PKCS#1) and ECDSA, RAW and DIGEST; node verifies with GetPublicKey; a bad signature is an error', async () => {
    const rsa = (await kms.createKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata!.KeyId!;
    const ec = (await kms.createKey({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata!.KeyId!;
    const msg = Buffer.from('sign this');
    for (const [KeyId, SigningAlgorithm, hash, opts] of [
      [rsa, 'RSASSA_PSS_SHA_256', 'sha256', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
      [rsa, 'RSASSA_PKCS1_V1_5_SHA_512', 'sha512', {}],
      [ec, 'ECDSA_SHA_384', 'sha384', {}],
    ] as const) {
      const pub = createPublicKey({ key: Buffer.from((await kms.getPublicKey({ KeyId })).PublicKey!), format: 'der', type: 'spki' });
      const raw = await kms.sign({ KeyId, Message: msg, SigningAlgorithm });
      expect(verify(hash, msg, { key: pub, ...opts }, Buffer.from(raw.Signature!))).toBe(true);
      const digest = createHash(hash).update(msg).digest();
      const dig = await kms.sign({ KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm });
      expect(verify(hash, msg, { key: pub, ...opts }, Buffer.from(dig.Signature!))).toBe(true);
      expect((await kms.verify({ KeyId, Message: msg, Signature: raw.Signature, SigningAlgorithm })).SignatureValid).toBe(true);
      expect(await nameOf(kms.verify({ KeyId, Message: Buffer.from('other'), Signature: raw.Signature, SigningAlgorithm }))).toBe('KMSInvalidSignatureException');
      expect(await nameOf(kms.sign({ KeyId, Message: Buffer.alloc(31), MessageType: 'DIGEST', SigningAlgorithm }))).toBe('ValidationException');
    }
    expect(await nameOf(kms.sign({ KeyId: ec, Message: msg, SigningAlgorithm: 'ECDSA_SHA_256' }))).toBe('InvalidKeyUsageException');
    expect(await nameOf(kms.encrypt({ KeyId: ec, Plaintext: msg }))).toBe('InvalidKeyUsageException');
    expect(await nameOf(kms.getPublicKey({ KeyId: (await kms.createKey({})).KeyMetadata!.KeyId! }))).toBe('UnsupportedOperationException');
  });

  it('RSA encryption keys: OAEP with node:crypto both ways, the size limits, KeyId required to decrypt', async () => {
    const { KeyMetadata } = await kms.createKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const KeyId = KeyMetadata!.Arn!;
    expect(KeyMetadata!.EncryptionAlgorithms).toEqual(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
    const pub = createPublicKey({ key: Buffer.from((await kms.getPublicKey({ KeyId })).PublicKey!), format: 'der', type: 'spki' });
    const ct = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('for the HSM'));
    expect(text((await kms.decrypt({ KeyId, CiphertextBlob: ct, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })).Plaintext)).toBe('for the HSM');
    const e = await kms.encrypt({ KeyId, Plaintext: randomBytes(214), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' });
    expect((await kms.decrypt({ KeyId, CiphertextBlob: e.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })).Plaintext).toHaveLength(214);
    expect(await nameOf(kms.encrypt({ KeyId, Plaintext: randomBytes(191), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))).toBe('ValidationException');
    expect(await nameOf(kms.encrypt({ KeyId, Plaintext: randomBytes(10) }))).toBe('InvalidKeyUsageException');
    expect(await nameOf(kms.decrypt({ CiphertextBlob: e.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }))).toBe('InvalidKeyUsageException');
  });

  it('GenerateMac/VerifyMac; a wrong MAC is KMSInvalidMacException; the algorithm must fit the key spec', async () => {
    const KeyId = (await kms.createKey({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' })).KeyMetadata!.KeyId!;
    const m = await kms.generateMac({ KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_384' });
    expect(m.Mac).toHaveLength(48);
    expect((await kms.verifyMac({ KeyId, Message: Buffer.from('m'), Mac: m.Mac, MacAlgorithm: 'HMAC_SHA_384' })).MacValid).toBe(true);
    expect(await nameOf(kms.verifyMac({ KeyId, Message: Buffer.from('n'), Mac: m.Mac, MacAlgorithm: 'HMAC_SHA_384' }))).toBe('KMSInvalidMacException');
    expect(await nameOf(kms.generateMac({ KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }))).toBe('InvalidKeyUsageException');
  });
});

describe('the key-state machine and rotation', () => {
  it('Disabled keys refuse crypto; pending deletion refuses crypto and management; cancel leaves Disabled; the window ends in deletion', async () => {
    const KeyId = (await kms.createKey({})).KeyMetadata!.KeyId!;
    await kms.createAlias({ AliasName: 'alias/doomed', TargetKeyId: KeyId });
    const ct = (await kms.encrypt({ KeyId, Plaintext: Buffer.from('x') })).CiphertextBlob;
    await kms.disableKey({ KeyId });
    expect(await nameOf(kms.encrypt({ KeyId, Plaintext: Buffer.from('x') }))).toBe('DisabledException');
    expect(await nameOf(kms.decrypt({ CiphertextBlob: ct }))).toBe('DisabledException');
    await kms.enableKey({ KeyId });
    expect(await nameOf(kms.scheduleKeyDeletion({ KeyId, PendingWindowInDays: 6 }))).toBe('ValidationException');
    const s = await kms.scheduleKeyDeletion({ KeyId, PendingWindowInDays: 7 });
    expect([s.KeyState, s.PendingWindowInDays]).toEqual(['PendingDeletion', 7]);
    expect(s.DeletionDate).toBeInstanceOf(Date);
    expect(await nameOf(kms.encrypt({ KeyId, Plaintext: Buffer.from('x') }))).toBe('KMSInvalidStateException');
    expect(await nameOf(kms.enableKey({ KeyId }))).toBe('KMSInvalidStateException');
    expect((await kms.describeKey({ KeyId })).KeyMetadata!.KeyState).toBe('PendingDeletion');
    await kms.cancelKeyDeletion({ KeyId });
    expect((await kms.describeKey({ KeyId })).KeyMetadata!.KeyState).toBe('Disabled');
    expect(await nameOf(kms.cancelKeyDeletion({ KeyId }))).toBe('KMSInvalidStateException');
    await kms.scheduleKeyDeletion({ KeyId, PendingWindowInDays: 7 });
    clock += 8 * 86_400_000;
    try {
      expect(await nameOf(kms.describeKey({ KeyId }))).toBe('NotFoundException');
    expect(await nameOf(kms.describeKey({ KeyId: 'alias/doomed' }))).toBe('NotFoundException');
      expect(await hsm.keys.find({ id: Buffer.from(KeyId.replace(/-/g, ''), 'hex') })).toEqual([]);
    } finally {
      clock = Date.now(); // back to real time: clients sign with it (SigV4 allows 15 minutes of skew)
    }
  });

  it('on-demand and automatic rotation: new material encrypts, old ciphertexts still decrypt', async () => {
    const KeyId = (await kms.createKey({})).KeyMetadata!.KeyId!;
    const old = (await kms.encrypt({ KeyId, Plaintext: Buffer.from('v1') })).CiphertextBlob!;
    const m1 = (await kms.describeKey({ KeyId })).KeyMetadata!.CurrentKeyMaterialId;
    await kms.rotateKeyOnDemand({ KeyId });
    const m2 = (await kms.describeKey({ KeyId })).KeyMetadata!.CurrentKeyMaterialId;
    expect(m2).not.toBe(m1);
    const mid = (await kms.encrypt({ KeyId, Plaintext: Buffer.from('v2') })).CiphertextBlob!;
    expect(Buffer.from(mid).subarray(21, 25).readUInt32BE(0)).toBe(2);
    expect(await nameOf(kms.enableKeyRotation({ KeyId, RotationPeriodInDays: 30 }))).toBe('ValidationException');
    await kms.enableKeyRotation({ KeyId, RotationPeriodInDays: 90 });
    const st = await kms.getKeyRotationStatus({ KeyId });
    expect([st.KeyRotationEnabled, st.RotationPeriodInDays]).toEqual([true, 90]);
    expect(st.NextRotationDate).toBeInstanceOf(Date);
    clock += 91 * 86_400_000;
    const after = (await kms.encrypt({ KeyId, Plaintext: Buffer.from('v3') })).CiphertextBlob!;
    clock = Date.now();
    expect(Buffer.from(after).subarray(21, 25).readUInt32BE(0)).toBe(3);
    for (const [blob, want] of [[old, 'v1'], [mid, 'v2'], [after, 'v3']] as const) expect(text((await kms.decrypt({ CiphertextBlob: blob })).Plaintext)).toBe(want);
    const rotations = (await kms.listKeyRotations({ KeyId })).Rotations!;
    expect(rotations.map((r) => r.RotationType)).toEqual(['ON_DEMAND', 'AUTOMATIC']);
    await kms.disableKeyRotation({ KeyId });
    expect((await kms.getKeyRotationStatus({ KeyId })).KeyRotationEnabled).toBe(false);
    const ec = (await kms.createKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata!.KeyId!;
    expect(await nameOf(kms.enableKeyRotation({ KeyId: ec }))).toBe('UnsupportedOperationException');
    expect(await nameOf(kms.rotateKeyOnDemand({ KeyId: ec }))).toBe('UnsupportedOperationException');
  });
});

describe('the protocol, authentication and throttling', () => {
  it('an operation this endpoint lacks is UnsupportedOperationException; unsigned, unknown and wrongly signed requests get AWS\'s auth errors', async () => {
    expect(await nameOf(kms.getKeyPolicy({ KeyId: 'x', PolicyName: 'default' }))).toBe('UnsupportedOperationException');
    expect(await nameOf(client({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' }).listKeys({}))).toBe('UnrecognizedClientException');
    expect(await nameOf(client({ ...CREDS, secretAccessKey: 'wrong' }).listKeys({}))).toBe('InvalidSignatureException');
    const raw = await fetch(server.url, { method: 'POST', headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    expect(raw.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(raw.headers.get('date')).toBeTruthy();
    const bogus = await fetch(server.url, { method: 'POST', headers: { 'x-amz-target': 'Nope' }, body: '' });
    expect((await bogus.json() as { __type: string }).__type).toBe('UnknownOperationException');
  });

  it('allowUnsigned accepts anything and says so loudly', async () => {
    const warnings: string[] = [];
    const open = await startKmsServer({ hsm, allowUnsigned: true, throttling: false, auditLog: false, warn: (m) => warnings.push(m) });
    try {
      expect(warnings[0]).toMatch(/WARNING: this KMS endpoint accepts unsigned requests/);
      const r = await fetch(open.url, { method: 'POST', headers: { 'x-amz-target': 'TrentService.GenerateRandom', 'content-type': 'application/x-amz-json-1.1' }, body: '{"NumberOfBytes": 8}' });
      expect(Buffer.from(((await r.json()) as { Plaintext: string }).Plaintext, 'base64')).toHaveLength(8);
    } finally {
      await open.close();
    }
  });

  it('ThrottlingException is retried by the SDK: one throttle then success; persistent throttling surfaces after 3 attempts; quotas apply', async () => {
    server.faults.throttleNext = 1;
    const ok = await kms.generateRandom({ NumberOfBytes: 4 });
    expect(ok.$metadata.attempts).toBe(2);
    server.faults.throttleNext = 10;
    const err = (await kms.generateRandom({ NumberOfBytes: 4 }).then(() => ({ name: 'resolved', $metadata: { attempts: 0 } }), (e: unknown) => e)) as { name: string; $metadata: { attempts: number } };
    expect([err.name, err.$metadata.attempts]).toEqual(['ThrottlingException', 3]);
    server.faults.throttleNext = 0;
    server.faults.latencyMs = 60;
    const t0 = Date.now();
    await kms.generateRandom({ NumberOfBytes: 4 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    server.faults.latencyMs = 0;
    server.faults.outage = true;
    expect(await nameOf(kms.generateRandom({ NumberOfBytes: 4 }))).toBe('KMSInternalException');
    server.faults.outage = false;

    const limited = await startKmsServer({ hsm, credentials: [{ ...CREDS, account: '111122223333' }], throttling: { CreateKey: 2 }, auditLog: false });
    try {
      const c = new KMS({ region: 'us-east-1', endpoint: limited.url, credentials: CREDS, maxAttempts: 1 });
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => c.createKey({})));
      expect(results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as Error).name)).toContain('ThrottlingException');
      const retrying = new KMS({ region: 'us-east-1', endpoint: limited.url, credentials: CREDS, maxAttempts: 10 });
      await new Promise((r) => setTimeout(r, 1100));
      const all = await Promise.all(Array.from({ length: 4 }, () => retrying.createKey({})));
      expect(all.every((x) => x.KeyMetadata!.KeyState === 'Enabled')).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('several processes at once', async () => {
    const KeyId = (await kms.createKey({})).KeyMetadata!.Arn!;
    const script = `
      const { KMS } = require('@aws-sdk/client-kms');
      process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';
      const kms = new KMS({ region: 'us-east-1', endpoint: process.argv[1], credentials: { accessKeyId: '${CREDS.accessKeyId}', secretAccessKey: '${CREDS.secretAccessKey}' } });
      (async () => {
        let ok = 0;
        await Promise.all(Array.from({ length: 40 }, async (_, i) => {
          const e = await kms.encrypt({ KeyId: process.argv[2], Plaintext: Buffer.from('p' + i), EncryptionContext: { i: String(i) } });
          const d = await kms.decrypt({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: { i: String(i) } });
          if (Buffer.from(d.Plaintext).toString() === 'p' + i) ok++;
        }));
        console.log(ok);
      })();`;
    const root = fileURLToPath(new URL('..', import.meta.url));
    const outs = await Promise.all(Array.from({ length: 4 }, () => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script, server.url, KeyId], { cwd: root });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d; });
      child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}`))));
    })));
    expect(outs).toEqual(['40', '40', '40', '40']);
  });
});

describe('the audit log', () => {
  it('one record per request, no plaintext in it, a chain that catches edits, removals and a cut-off end', async () => {
    const secret = 'do-not-log-this-plaintext-' + randomBytes(8).toString('hex');
    const KeyId = (await kms.createKey({})).KeyMetadata!.Arn!;
    const e = await kms.encrypt({ KeyId, Plaintext: Buffer.from(secret), EncryptionContext: { who: 'audit-test' } });
    await kms.decrypt({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: { who: 'audit-test' } });
    await kms.decrypt({ CiphertextBlob: e.CiphertextBlob }).catch(() => undefined);
    const path = server.auditLog!;
    const log = readFileSync(path, 'utf8');
    expect(log).not.toContain(secret);
    expect(log).not.toContain(Buffer.from(secret).toString('base64'));
    const records = log.trim().split('\n').map((l) => JSON.parse(l) as { eventName: string; resources?: Array<{ ARN: string }>; errorCode?: string; requestParameters: Record<string, unknown>; userIdentity: { accessKeyId: string } });
    const mine = records.filter((r) => r.resources?.[0]?.ARN === KeyId);
    expect(mine.map((r) => r.eventName)).toEqual(['CreateKey', 'Encrypt', 'Decrypt']);
    expect(mine[1]!.requestParameters).toEqual({ KeyId, EncryptionContext: { who: 'audit-test' } });
    expect(records.find((r) => r.eventName === 'Decrypt' && r.errorCode === 'InvalidCiphertextException')).toBeDefined();
    expect(mine[0]!.userIdentity.accessKeyId).toBe(CREDS.accessKeyId);

    const { AuditLog } = await import('../src/kms/audit.js');
    const { KmsStore } = await import('../src/kms/store.js');
    const store = await KmsStore.open(hsm);
    try {
      const whole = await AuditLog.verify(path, store);
      expect(whole.ok).toBe(true);
      expect(whole.records).toBeGreaterThanOrEqual(records.length);
      const lines = log.trim().split('\n');
      const edited = [...lines];
      const forged = JSON.parse(lines[3]!) as Record<string, unknown>;
      forged.sourceIPAddress = '203.0.113.9'; // the chain fields stay as they were
      edited[3] = JSON.stringify(forged);
      const check = async (variant: string[]) => {
        const f = join(dir, 'variant.jsonl');
        writeFileSync(f, `${variant.join('\n')}\n`);
        return AuditLog.verify(f, store);
      };
      expect((await check(edited)).problem).toMatch(/line 4: the record was changed/);
      expect((await check(lines.filter((_, i) => i !== 2))).problem).toMatch(/line 3: the chain breaks/);
      expect((await check([lines[1]!, lines[0]!, ...lines.slice(2)])).problem).toMatch(/line 1: the chain breaks/);
      // cutting the end off leaves a valid chain: the token's checkpoint catches it
      await server.close();
      server = await startKmsServer({ hsm, credentials: [{ ...CREDS, account: '111122223333' }], throttling: false, auditLog: path, clock: () => clock });
      kms = client();
      const store2 = await KmsStore.open(hsm);
      const f = join(dir, 'cut.jsonl');
      writeFileSync(f, `${lines.slice(0, -2).join('\n')}\n`);
      expect((await AuditLog.verify(f, store2)).problem).toMatch(/records were cut off the end/);
      store2.close();
    } finally {
      store.close();
    }
  });
});
