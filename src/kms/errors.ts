// src/kms/errors.ts
//
// KMS's error answers: AWS's JSON error shape (src/aws/errors.ts) with KMS's names, HTTP 400 for
// client errors and 500 for the server faults the SDK retries (spec/kms.md §1.5).

import { AwsError } from '../aws/errors.js';

export { AwsError as KmsError };

export const notFound = (what: string): AwsError => new AwsError('NotFoundException', what);
export const validation = (message: string): AwsError => new AwsError('ValidationException', `1 validation error detected: ${message}`);
/** Real KMS answers a bad ciphertext with no message at all. */
export const invalidCiphertext = (): AwsError => new AwsError('InvalidCiphertextException');
