// src/client/mechanisms.ts
//
// Typed mechanism options for the client, and the one table that maps them to CKM_* numbers and
// parameters (jose-style: nothing below this file enumerates mechanisms). Also the default
// mechanism for each kind of key.

import type { NativeMechanism } from '../native/binding.js';
import { CKG, CKM } from '../native/pkcs11_gen.js';

export type HashName = 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512';

const HASH: Record<HashName, { ckm: number; mgf: number; size: number }> = {
  SHA1: { ckm: CKM.SHA_1, mgf: CKG.MGF1_SHA1, size: 20 },
  SHA224: { ckm: CKM.SHA224, mgf: CKG.MGF1_SHA224, size: 28 },
  SHA256: { ckm: CKM.SHA256, mgf: CKG.MGF1_SHA256, size: 32 },
  SHA384: { ckm: CKM.SHA384, mgf: CKG.MGF1_SHA384, size: 48 },
  SHA512: { ckm: CKM.SHA512, mgf: CKG.MGF1_SHA512, size: 64 },
};

/** Sign/verify mechanisms that take no parameters. */
export const SIGN_MECHANISMS = {
  ECDSA: CKM.ECDSA, ECDSA_SHA1: CKM.ECDSA_SHA1, ECDSA_SHA224: CKM.ECDSA_SHA224, ECDSA_SHA256: CKM.ECDSA_SHA256,
  ECDSA_SHA384: CKM.ECDSA_SHA384, ECDSA_SHA512: CKM.ECDSA_SHA512, EDDSA: CKM.EDDSA,
  RSA_PKCS: CKM.RSA_PKCS, RSA_X_509: CKM.RSA_X_509, SHA1_RSA_PKCS: CKM.SHA1_RSA_PKCS, SHA224_RSA_PKCS: CKM.SHA224_RSA_PKCS,
  SHA256_RSA_PKCS: CKM.SHA256_RSA_PKCS, SHA384_RSA_PKCS: CKM.SHA384_RSA_PKCS, SHA512_RSA_PKCS: CKM.SHA512_RSA_PKCS,
  SHA_1_HMAC: CKM.SHA_1_HMAC, SHA224_HMAC: CKM.SHA224_HMAC, SHA256_HMAC: CKM.SHA256_HMAC, SHA384_HMAC: CKM.SHA384_HMAC,
  SHA512_HMAC: CKM.SHA512_HMAC, AES_CMAC: CKM.AES_CMAC,
} as const;
export type SimpleSignMechanism = keyof typeof SIGN_MECHANISMS;

const PSS = {
  RSA_PKCS_PSS: CKM.RSA_PKCS_PSS, SHA1_RSA_PKCS_PSS: CKM.SHA1_RSA_PKCS_PSS, SHA224_RSA_PKCS_PSS: CKM.SHA224_RSA_PKCS_PSS,
  SHA256_RSA_PKCS_PSS: CKM.SHA256_RSA_PKCS_PSS, SHA384_RSA_PKCS_PSS: CKM.SHA384_RSA_PKCS_PSS, SHA512_RSA_PKCS_PSS: CKM.SHA512_RSA_PKCS_PSS,
} as const;
const PSS_HASH: Record<keyof typeof PSS, HashName | undefined> = {
  RSA_PKCS_PSS: undefined, SHA1_RSA_PKCS_PSS: 'SHA1', SHA224_RSA_PKCS_PSS: 'SHA224', SHA256_RSA_PKCS_PSS: 'SHA256',
  SHA384_RSA_PKCS_PSS: 'SHA384', SHA512_RSA_PKCS_PSS: 'SHA512',
};
const MAC_GENERAL = {
  SHA_1_HMAC_GENERAL: CKM.SHA_1_HMAC_GENERAL, SHA224_HMAC_GENERAL: CKM.SHA224_HMAC_GENERAL, SHA256_HMAC_GENERAL: CKM.SHA256_HMAC_GENERAL,
  SHA384_HMAC_GENERAL: CKM.SHA384_HMAC_GENERAL, SHA512_HMAC_GENERAL: CKM.SHA512_HMAC_GENERAL, AES_CMAC_GENERAL: CKM.AES_CMAC_GENERAL,
} as const;

/** RSA-PSS. `hash` is required for RSA_PKCS_PSS (the input is a hash); `mgf` defaults to `hash`;
 *  `saltLength` defaults to the hash length. */
export interface PssOptions {
  readonly name: keyof typeof PSS;
  readonly hash?: HashName;
  readonly mgf?: HashName;
  readonly saltLength?: number;
}
/** A MAC truncated to `macLength` bytes. */
export interface MacGeneralOptions {
  readonly name: keyof typeof MAC_GENERAL;
  readonly macLength: number;
}
export type SignMechanism = SimpleSignMechanism | PssOptions | MacGeneralOptions;

/** AES-GCM. With the CloudHSM profiles the HSM makes the 12-byte IV (a given `iv` is ignored, as in
 *  CloudHSM) and returns it; with the pkcs11 profile `iv` is required. `tagBits` defaults to 128. */
export interface AesGcmOptions {
  readonly name: 'AES_GCM';
  readonly iv?: Uint8Array;
  readonly aad?: Uint8Array;
  readonly tagBits?: number;
}
/** CloudHSM's vendor GCM: the HSM makes the IV and puts it in front of the ciphertext. */
export interface CloudHsmAesGcmOptions {
  readonly name: 'CLOUDHSM_AES_GCM';
  readonly aad?: Uint8Array;
  readonly tagBits?: number;
}
export interface AesIvOptions {
  readonly name: 'AES_CBC' | 'AES_CBC_PAD';
  readonly iv: Uint8Array;
}
export interface AesCtrOptions {
  readonly name: 'AES_CTR';
  /** The 16-byte counter block. */
  readonly iv: Uint8Array;
  /** How many low bits of the block count (default 128). */
  readonly counterBits?: number;
}
/** RSA-OAEP; `hash` defaults to SHA256, `mgf` to `hash`. */
export interface OaepOptions {
  readonly name: 'RSA_PKCS_OAEP';
  readonly hash?: HashName;
  readonly mgf?: HashName;
  readonly label?: Uint8Array;
}
const SIMPLE_CIPHERS = {
  AES_ECB: CKM.AES_ECB, RSA_PKCS: CKM.RSA_PKCS, RSA_X_509: CKM.RSA_X_509,
  AES_KEY_WRAP: CKM.AES_KEY_WRAP, AES_KEY_WRAP_PAD: CKM.AES_KEY_WRAP_PAD, AES_KEY_WRAP_KWP: CKM.AES_KEY_WRAP_KWP,
  CLOUDHSM_AES_KEY_WRAP_NO_PAD: 0x80002109, CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD: 0x8000210a, CLOUDHSM_AES_KEY_WRAP_ZERO_PAD: 0x8000216f,
} as const;
export type SimpleCipherMechanism = keyof typeof SIMPLE_CIPHERS;
export type EncryptMechanism = SimpleCipherMechanism | AesGcmOptions | CloudHsmAesGcmOptions | AesIvOptions | AesCtrOptions | OaepOptions;

/** RSA-OAEP wrapping of a fresh AES key that wraps the target with RFC 5649. */
export interface RsaAesWrapOptions {
  readonly name: 'RSA_AES_KEY_WRAP';
  readonly aesKeyBits?: 128 | 192 | 256;
  readonly hash?: HashName;
  readonly mgf?: HashName;
}
export type WrapMechanism = EncryptMechanism | RsaAesWrapOptions;

function hash(name: HashName | undefined, what: string): { ckm: number; mgf: number; size: number } {
  const h = name === undefined ? undefined : HASH[name];
  if (h === undefined) throw new RangeError(`${what} must be one of ${Object.keys(HASH).join(', ')}; got ${String(name)}`);
  return h;
}

function unknown(what: string, m: unknown): never {
  throw new TypeError(`unknown ${what} mechanism ${JSON.stringify(m)}`);
}

/** Turns a typed sign mechanism into the native form. */
export function signMechanism(m: SignMechanism): NativeMechanism | number {
  if (typeof m === 'string') {
    const type = SIGN_MECHANISMS[m];
    return type === undefined ? unknown('sign', m) : type; // no parameter: the bare number
  }
  if (m.name in PSS) {
    const o = m as PssOptions;
    const h = hash(o.hash ?? PSS_HASH[o.name], 'PSS hash');
    if (PSS_HASH[o.name] !== undefined && o.hash !== undefined && o.hash !== PSS_HASH[o.name]) {
      throw new RangeError(`${o.name} hashes with ${PSS_HASH[o.name]}; hash ${o.hash} does not match`);
    }
    return { type: PSS[o.name], hashAlg: h.ckm, mgf: hash(o.mgf ?? o.hash ?? PSS_HASH[o.name], 'PSS mgf').mgf, saltLength: o.saltLength ?? h.size };
  }
  if (m.name in MAC_GENERAL) {
    const o = m as MacGeneralOptions;
    return { type: MAC_GENERAL[o.name], macLength: o.macLength };
  }
  return unknown('sign', m);
}

/** Turns a typed encrypt / wrap mechanism into the native form. */
export function cipherMechanism(m: WrapMechanism): NativeMechanism | number {
  if (typeof m === 'string') {
    const type = SIMPLE_CIPHERS[m];
    return type === undefined ? unknown('cipher', m) : type; // no parameter: the bare number
  }
  switch (m.name) {
    case 'AES_GCM':
      return { type: CKM.AES_GCM, ...(m.iv && { iv: m.iv }), ...(m.aad && { aad: m.aad }), tagBits: m.tagBits ?? 128 };
    case 'CLOUDHSM_AES_GCM':
      return { type: 0x80001087, ...(m.aad && { aad: m.aad }), tagBits: m.tagBits ?? 128 };
    case 'AES_CBC':
      return { type: CKM.AES_CBC, iv: m.iv };
    case 'AES_CBC_PAD':
      return { type: CKM.AES_CBC_PAD, iv: m.iv };
    case 'AES_CTR':
      return { type: CKM.AES_CTR, iv: m.iv, counterBits: m.counterBits ?? 128 };
    case 'RSA_PKCS_OAEP': {
      const h = hash(m.hash ?? 'SHA256', 'OAEP hash');
      return { type: CKM.RSA_PKCS_OAEP, hashAlg: h.ckm, mgf: hash(m.mgf ?? m.hash ?? 'SHA256', 'OAEP mgf').mgf, ...(m.label && { label: m.label }) };
    }
    case 'RSA_AES_KEY_WRAP': {
      const h = hash(m.hash ?? 'SHA256', 'OAEP hash');
      return { type: CKM.RSA_AES_KEY_WRAP, aesKeyBits: m.aesKeyBits ?? 256, hashAlg: h.ckm, mgf: hash(m.mgf ?? m.hash ?? 'SHA256', 'OAEP mgf').mgf };
    }
    default:
      return unknown('cipher', m);
  }
}

/** The CKM_* number of a hash, for HKDF and digests. */
export function hashMechanism(name: HashName): number {
  return hash(name, 'hash').ckm;
}
