// src/webcrypto/adopt.ts
//
// A CryptoKey for a key that is already on the token (found with hsm.keys.find, made by the PKCS#11
// module or by cloudhsm-cli): the algorithm says how Web Crypto may use it, the key's own PKCS#11
// attributes say which usages it has and whether it is extractable.

import type { KeyHandle } from '../client/key_handle.js';
import type { KeyType as HsmKeyType } from '../client/attributes.js';
import { domError } from './errors.js';
import { SealedKey, type WebKeyUsage } from './key.js';
import { webHash } from './params.js';

const EC_NAMES: Record<string, string> = { secp256r1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

interface Adoption {
  readonly type: HsmKeyType;
  readonly usages: readonly WebKeyUsage[];
  algorithm(h: KeyHandle, bits: number, given: Record<string, unknown>): Promise<KeyAlgorithm>;
}

const ec = (name: string, usages: WebKeyUsage[]): Adoption => ({
  type: 'ec', usages,
  async algorithm(h) {
    const namedCurve = EC_NAMES[h.curve ?? ''];
    if (namedCurve === undefined) throw domError('DataError', `${name} keys are on P-256, P-384 or P-521, not ${h.curve}`);
    return { name, namedCurve } as EcKeyAlgorithm;
  },
});
const rsa = (name: string, usages: WebKeyUsage[]): Adoption => ({
  type: 'rsa', usages,
  async algorithm(h, bits, given) {
    const jwk = await h.exportPublicKey('jwk');
    return { name, modulusLength: bits, publicExponent: Uint8Array.from(Buffer.from(String(jwk.e), 'base64url')), hash: { name: webHash(given.hash ?? 'SHA-256') } } as RsaHashedKeyAlgorithm;
  },
});
const aes = (name: string, usages: WebKeyUsage[]): Adoption => ({ type: 'aes', usages, algorithm: async (_h, bits) => ({ name, length: bits }) as AesKeyAlgorithm });

const ADOPTIONS: Record<string, Adoption> = {
  ECDSA: ec('ECDSA', ['sign', 'verify']),
  ECDH: ec('ECDH', ['deriveKey', 'deriveBits']),
  Ed25519: { type: 'ed25519', usages: ['sign', 'verify'], algorithm: async () => ({ name: 'Ed25519' }) },
  'RSASSA-PKCS1-v1_5': rsa('RSASSA-PKCS1-v1_5', ['sign', 'verify']),
  'RSA-PSS': rsa('RSA-PSS', ['sign', 'verify']),
  'RSA-OAEP': rsa('RSA-OAEP', ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']),
  'AES-GCM': aes('AES-GCM', ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']),
  'AES-CBC': aes('AES-CBC', ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']),
  'AES-CTR': aes('AES-CTR', ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']),
  'AES-KW': aes('AES-KW', ['wrapKey', 'unwrapKey']),
  HMAC: { type: 'generic-secret', usages: ['sign', 'verify'], algorithm: async (_h, bits, given) => ({ name: 'HMAC', hash: { name: webHash(given.hash ?? 'SHA-256') }, length: bits }) as HmacKeyAlgorithm },
  HKDF: { type: 'generic-secret', usages: ['deriveKey', 'deriveBits'], algorithm: async () => ({ name: 'HKDF' }) },
};

const DEFAULT_ALGORITHM: Record<HsmKeyType, string> = { ec: 'ECDSA', ed25519: 'Ed25519', rsa: 'RSASSA-PKCS1-v1_5', aes: 'AES-GCM', 'generic-secret': 'HMAC' };
const PUBLIC_USAGES: readonly WebKeyUsage[] = ['verify', 'encrypt', 'wrapKey'];

/** The CryptoKey for a key handle; `algorithm` defaults by key type (ECDSA, Ed25519,
 *  RSASSA-PKCS1-v1_5 with SHA-256, AES-GCM, HMAC with SHA-256). */
export async function adopt(handle: KeyHandle, algorithm?: string | (Algorithm & Record<string, unknown>)): Promise<SealedKey> {
  const given = (typeof algorithm === 'string' ? { name: algorithm } : algorithm ?? { name: DEFAULT_ALGORITHM[handle.type] }) as Algorithm & Record<string, unknown>;
  const name = Object.keys(ADOPTIONS).find((n) => n.toLowerCase() === String(given.name).toLowerCase());
  if (name === undefined) throw domError('NotSupportedError', `no Web Crypto algorithm '${String(given.name)}' for HSM keys`);
  const a = ADOPTIONS[name]!;
  if (a.type !== handle.type) throw domError('InvalidAccessError', `a ${handle.type} key cannot be used for ${name}`);
  const info = await handle.info();
  const flags = info.attributes;
  const has: Record<WebKeyUsage, boolean | undefined> = {
    encrypt: flags.encrypt, decrypt: flags.decrypt, sign: flags.sign, verify: flags.verify, wrapKey: flags.wrap, unwrapKey: flags.unwrap,
    deriveKey: flags.derive, deriveBits: flags.derive,
  };
  const type: KeyType = handle.class === 'secret-key' ? 'secret' : handle.class === 'private-key' ? 'private' : 'public';
  const usages = a.usages.filter((u) => has[u] === true && (type === 'secret' || (type === 'public') === PUBLIC_USAGES.includes(u)));
  const extractable = type === 'public' ? true : type === 'private' ? flags.extractable === true : flags.extractable === true && flags.sensitive !== true;
  return SealedKey.of(handle, await a.algorithm(handle, info.bits, given), type, extractable, usages);
}
