// src/bench/backends/kms.ts
//
// sealhsm's KMS endpoint as a bench backend: an in-process server on an in-memory token, called
// through @aws-sdk/client-kms (an optional package: npm install @aws-sdk/client-kms) over HTTP with
// SigV4, as a service using KMS would. Encrypt/Decrypt and GenerateDataKey on a symmetric key, Sign on
// an ECC key, GenerateMac on an HMAC key; the rest is not something KMS does.

import { randomBytes } from 'node:crypto';

import { SealHsm } from '../../client/hsm.js';
import { startKmsServer, type KmsServer } from '../../kms/server.js';
import { NotApplicable, type AlgorithmSpec, type Backend, type OperationName, type Prepared } from '../operations.js';

interface KmsLike {
  createKey(a: object): Promise<{ KeyMetadata?: { Arn?: string } }>;
  encrypt(a: object): Promise<{ CiphertextBlob?: Uint8Array }>;
  decrypt(a: object): Promise<unknown>;
  generateDataKey(a: object): Promise<unknown>;
  sign(a: object): Promise<unknown>;
  generateMac(a: object): Promise<unknown>;
}

export async function kmsBackend(): Promise<Backend> {
  let KMS: new (config: object) => KmsLike;
  try {
    ({ KMS } = (await import('@aws-sdk/client-kms' as string)) as { KMS: new (config: object) => KmsLike });
  } catch {
    throw new Error('the kms backend calls the endpoint with @aws-sdk/client-kms: npm install @aws-sdk/client-kms');
  }
  process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= '1';
  const hsm = SealHsm.memory({ profile: 'cloudhsm', sessions: 16, label: 'bench-kms' });
  await hsm.activate('bench-admin-password');
  await hsm.login('admin', 'bench-admin-password');
  await hsm.users.create('kmsuser', 'bench-kms-password');
  hsm.logout();
  await hsm.login('kmsuser', 'bench-kms-password');
  const creds = { accessKeyId: 'AKIDSEALHSMBENCH', secretAccessKey: randomBytes(16).toString('hex') };
  const server: KmsServer = await startKmsServer({ hsm, credentials: [{ ...creds, account: '111122223333' }], throttling: false, auditLog: false });
  const kms = new KMS({ region: 'us-east-1', endpoint: server.url, credentials: creds, maxAttempts: 1 });
  const key = async (spec: object) => (await kms.createKey(spec)).KeyMetadata!.Arn!;
  return {
    name: 'kms',
    async prepare(op: OperationName, algorithm: string, spec: AlgorithmSpec, size: number): Promise<Prepared> {
      const data = randomBytes(size);
      if (spec.scheme === 'gcm' && (op === 'encrypt' || op === 'decrypt' || op === 'generate')) {
        const KeyId = await key({});
        if (op === 'generate') return () => kms.generateDataKey({ KeyId, KeySpec: 'AES_256' });
        if (size > 4096) throw new NotApplicable('KMS encrypts at most 4,096 bytes');
        if (op === 'encrypt') return () => kms.encrypt({ KeyId, Plaintext: data, EncryptionContext: { bench: 'yes' } });
        const { CiphertextBlob } = await kms.encrypt({ KeyId, Plaintext: data, EncryptionContext: { bench: 'yes' } });
        return () => kms.decrypt({ CiphertextBlob, EncryptionContext: { bench: 'yes' } });
      }
      if (op === 'sign' && algorithm === 'ecdsa-p256') {
        const KeyId = await key({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
        return () => kms.sign({ KeyId, Message: data, SigningAlgorithm: 'ECDSA_SHA_256' });
      }
      if (op === 'hmac') {
        const KeyId = await key({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
        return () => kms.generateMac({ KeyId, Message: data, MacAlgorithm: 'HMAC_SHA_256' });
      }
      throw new NotApplicable(`KMS has no ${op}:${algorithm} here`);
    },
    async close() {
      await server.close();
      hsm.close();
    },
  };
}
