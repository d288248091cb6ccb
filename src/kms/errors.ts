// src/kms/errors.ts
//
// KMS's error answers: `{"__type": "<Name>", "message": "..."}` with HTTP 400 for client errors and
// 500 for the server faults the SDK retries (spec/kms.md §1.5).

const SERVER_FAULTS = new Set(['KMSInternalException', 'KeyUnavailableException', 'DependencyTimeoutException']);

export class KmsError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message?: string) {
    super(message ?? '');
    this.type = type;
    this.status = SERVER_FAULTS.has(type) ? 500 : 400;
  }
}

export const notFound = (what: string): KmsError => new KmsError('NotFoundException', what);
export const validation = (message: string): KmsError => new KmsError('ValidationException', `1 validation error detected: ${message}`);
/** Real KMS answers a bad ciphertext with no message at all. */
export const invalidCiphertext = (): KmsError => new KmsError('InvalidCiphertextException');
