// src/kms/specs.ts
//
// KMS key specs and algorithms (spec/kms.md §2.3) as the HSM keys and mechanisms that carry them:
// the one table of the endpoint. SYMMETRIC_DEFAULT is AES-256-GCM; RSA keys encrypt (OAEP) or sign
// (PSS, PKCS#1 v1.5); ECC keys sign (ECDSA, DER signatures as KMS returns them); HMAC keys MAC.

import type { SealHsm } from '../client/hsm.js';
import type { KeyAttributes } from '../client/attributes.js';
import type { HashName } from '../client/mechanisms.js';
import type { CurveName } from '../keys/curves.js';

export type KeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC';

export interface KeySpecInfo {
  readonly usages: readonly KeyUsage[];
  readonly kind: 'symmetric' | 'rsa' | 'ec' | 'hmac';
  readonly bits?: number;
  readonly curve?: CurveName;
  readonly encryptionAlgorithms?: readonly string[];
  readonly signingAlgorithms?: readonly string[];
  readonly macAlgorithms?: readonly string[];
}

const RSA_SIGN = ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
const rsa = (bits: number): KeySpecInfo => ({ usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], kind: 'rsa', bits, encryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'], signingAlgorithms: RSA_SIGN });
const ec = (curve: CurveName, alg: string): KeySpecInfo => ({ usages: ['SIGN_VERIFY'], kind: 'ec', curve, signingAlgorithms: [alg] });
const hmac = (bits: number): KeySpecInfo => ({ usages: ['GENERATE_VERIFY_MAC'], kind: 'hmac', bits, macAlgorithms: [`HMAC_SHA_${bits}`] });

export const KEY_SPECS: Readonly<Record<string, KeySpecInfo>> = {
  SYMMETRIC_DEFAULT: { usages: ['ENCRYPT_DECRYPT'], kind: 'symmetric', bits: 256, encryptionAlgorithms: ['SYMMETRIC_DEFAULT'] },
  RSA_2048: rsa(2048), RSA_3072: rsa(3072), RSA_4096: rsa(4096),
  ECC_NIST_P256: ec('secp256r1', 'ECDSA_SHA_256'), ECC_NIST_P384: ec('secp384r1', 'ECDSA_SHA_384'), ECC_NIST_P521: ec('secp521r1', 'ECDSA_SHA_512'),
  ECC_SECG_P256K1: ec('secp256k1', 'ECDSA_SHA_256'),
  HMAC_224: hmac(224), HMAC_256: hmac(256), HMAC_384: hmac(384), HMAC_512: hmac(512),
};

/** The hash each algorithm names. */
export function algorithmHash(alg: string): HashName {
  const m = /(?:SHA_?)(1|224|256|384|512)$/.exec(alg);
  if (m === null) throw new Error(`no hash in ${alg}`);
  return `SHA${m[1]}` as HashName;
}

/** Makes the key on the token: one AES material version, an RSA or EC pair, or an HMAC secret. */
export async function generate(hsm: SealHsm, spec: KeySpecInfo, usage: KeyUsage, label: string, id: Uint8Array): Promise<void> {
  const common: KeyAttributes = { token: true, label, id, extractable: false, sensitive: true };
  const encrypt = usage === 'ENCRYPT_DECRYPT';
  switch (spec.kind) {
    case 'symmetric':
      await hsm.keys.generateAes({ bits: 256, ...common, encrypt: true, decrypt: true });
      return;
    case 'rsa':
      await hsm.keys.generateRsa({ modulusBits: spec.bits!, ...common, encrypt, decrypt: encrypt, sign: !encrypt, verify: !encrypt });
      return;
    case 'ec':
      await hsm.keys.generateEc({ curve: spec.curve! as 'secp256r1', ...common, sign: true, verify: true });
      return;
    case 'hmac':
      await hsm.keys.generateGenericSecret({ length: spec.bits! / 8, ...common, sign: true, verify: true });
  }
}
