// src/bench/backends/node.ts
//
// node:crypto as the baseline, on its asynchronous paths (the libuv pool): crypto.sign / verify /
// generateKeyPair with callbacks, and crypto.subtle for AES, HMAC, digests, wrapping and ECDH.

import * as crypto from 'node:crypto';
import { promisify } from 'node:util';

import { NotApplicable, type AlgorithmSpec, type Backend, type OperationName, type Prepared } from '../operations.js';

const sign = promisify(crypto.sign);
const verify = promisify(crypto.verify);
const generateKeyPair = promisify(crypto.generateKeyPair) as (type: string, options: object) => Promise<crypto.KeyPairKeyObjectResult>;
const subtle = crypto.webcrypto.subtle;
const WEB_HASH = { SHA256: 'SHA-256', SHA384: 'SHA-384', SHA512: 'SHA-512' } as const;

function pair(spec: AlgorithmSpec): crypto.KeyPairKeyObjectResult {
  const k = spec.key;
  if (k.type === 'ec') return crypto.generateKeyPairSync('ec', { namedCurve: k.curve === 'secp256r1' ? 'prime256v1' : k.curve });
  if (k.type === 'ed25519') return crypto.generateKeyPairSync('ed25519');
  if (k.type === 'rsa') return crypto.generateKeyPairSync('rsa', { modulusLength: k.bits });
  throw new NotApplicable(`no key pair for ${k.type}`);
}

export async function nodeBackend(): Promise<Backend> {
  return {
    name: 'node',
    async prepare(op: OperationName, _algorithm: string, spec: AlgorithmSpec, size: number): Promise<Prepared> {
      const data = crypto.randomBytes(size);
      const hash = spec.hash === undefined ? null : spec.hash.toLowerCase();
      const pss = { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
      switch (op) {
        case 'sign':
        case 'verify': {
          const { privateKey, publicKey } = pair(spec);
          const pkey = spec.scheme === 'pss' ? { key: privateKey, ...pss } : privateKey;
          const vkey = spec.scheme === 'pss' ? { key: publicKey, ...pss } : publicKey;
          if (op === 'sign') return () => sign(hash, data, pkey);
          const sig = crypto.sign(hash, data, pkey);
          return () => verify(hash, data, vkey, sig);
        }
        case 'encrypt':
        case 'decrypt': {
          if (spec.scheme === 'oaep') {
            const { privateKey, publicKey } = pair(spec);
            const priv = await subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
            const pub = await subtle.importKey('spki', publicKey.export({ format: 'der', type: 'spki' }), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
            if (op === 'encrypt') return () => subtle.encrypt({ name: 'RSA-OAEP' }, pub, data);
            const ct = await subtle.encrypt({ name: 'RSA-OAEP' }, pub, data);
            return () => subtle.decrypt({ name: 'RSA-OAEP' }, priv, ct);
          }
          const name = spec.scheme === 'gcm' ? 'AES-GCM' : 'AES-CBC';
          const key = await subtle.generateKey({ name, length: 256 }, false, ['encrypt', 'decrypt']);
          const params = { name, iv: crypto.randomBytes(spec.scheme === 'gcm' ? 12 : 16) };
          if (op === 'encrypt') return () => subtle.encrypt(params, key, data);
          const ct = await subtle.encrypt(params, key, data);
          return () => subtle.decrypt(params, key, ct);
        }
        case 'hmac': {
          const key = await subtle.generateKey({ name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']);
          return () => subtle.sign('HMAC', key, data);
        }
        case 'digest':
          return () => subtle.digest(WEB_HASH[spec.hash!], data);
        case 'wrap': {
          const kek = await subtle.generateKey({ name: 'AES-KW', length: 256 }, false, ['wrapKey']);
          const payload = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
          return () => subtle.wrapKey('raw', payload, kek, 'AES-KW');
        }
        case 'generate': {
          const k = spec.key;
          if (k.type === 'aes') return () => subtle.generateKey({ name: 'AES-GCM', length: k.bits }, false, ['encrypt']);
          if (k.type === 'generic-secret') return () => subtle.generateKey({ name: 'HMAC', hash: 'SHA-256', length: k.bytes * 8 }, false, ['sign']);
          if (k.type === 'ec') return () => generateKeyPair('ec', { namedCurve: k.curve === 'secp256r1' ? 'prime256v1' : k.curve });
          if (k.type === 'rsa') return () => generateKeyPair('rsa', { modulusLength: k.bits });
          return () => generateKeyPair('ed25519', {});
        }
        case 'derive': {
          if (spec.key.type === 'generic-secret') {
            const ikm = await subtle.importKey('raw', crypto.randomBytes(32), 'HKDF', false, ['deriveBits']);
            const params = { name: 'HKDF', hash: 'SHA-256', salt: crypto.randomBytes(16), info: Buffer.from('bench') };
            return () => subtle.deriveBits(params, ikm, 256);
          }
          const mine = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
          const theirs = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
          return () => subtle.deriveBits({ name: 'ECDH', public: theirs.publicKey }, mine.privateKey, 256);
        }
        case 'find':
          throw new NotApplicable('node:crypto has no key store to search');
      }
    },
    async close() {},
  };
}
