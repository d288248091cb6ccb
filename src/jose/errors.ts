// src/jose/errors.ts
//
// One error class for JWS/JWT failures, with jose's stable `code` strings so code that handles
// jose's errors handles ours the same way.

export type JoseErrorCode =
  | 'ERR_JWS_INVALID' | 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' | 'ERR_JOSE_ALG_NOT_ALLOWED' | 'ERR_JOSE_NOT_SUPPORTED'
  | 'ERR_JWKS_NO_MATCHING_KEY' | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' | 'ERR_JWK_INVALID'
  | 'ERR_JWT_INVALID' | 'ERR_JWT_EXPIRED' | 'ERR_JWT_CLAIM_VALIDATION_FAILED';

export class JoseError extends Error {
  readonly code: JoseErrorCode;
  /** For claim failures, the claim. */
  readonly claim?: string;

  constructor(code: JoseErrorCode, message: string, claim?: string) {
    super(message);
    this.code = code;
    if (claim !== undefined) this.claim = claim;
  }

  override get name(): string {
    return 'JoseError';
  }
}
