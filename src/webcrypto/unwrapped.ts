// src/webcrypto/unwrapped.ts
//
// unwrapKey of a raw secret key or a PKCS#8 private key happens inside the HSM (C_UnwrapKey): the
// key never exists outside it. The import path of each provider takes this in place of key bytes, so
// the checks and the CryptoKey it builds are the same as for importKey.

import type { KeyAttributes, KeyType } from '../client/attributes.js';
import type { KeyHandle } from '../client/key_handle.js';

export class Unwrapped {
  constructor(readonly unwrap: (cls: 'secret-key' | 'private-key', type: KeyType, attrs: KeyAttributes) => Promise<KeyHandle>) {}
}
