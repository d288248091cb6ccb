// src/keys/digest_info.ts
//
// RFC 8017 §9.2 note 1: the DER DigestInfo prefix of each hash. RSA PKCS#1 v1.5 over a digest the
// caller made (CKM_RSA_PKCS) signs prefix ‖ digest; KMS's MessageType DIGEST and cloudhsm-cli's
// --data-type digest need it.

import type { HashName } from '../client/mechanisms.js';

const PREFIX: Record<HashName, string> = {
  SHA1: '3021300906052b0e03021a05000414', SHA224: '302d300d06096086480165030402040500041c', SHA256: '3031300d060960864801650304020105000420',
  SHA384: '3041300d060960864801650304020205000430', SHA512: '3051300d060960864801650304020305000440',
};

export const HASH_BYTES: Record<HashName, number> = { SHA1: 20, SHA224: 28, SHA256: 32, SHA384: 48, SHA512: 64 };

export function digestInfo(hash: HashName, digest: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(PREFIX[hash], 'hex'), digest]);
}
