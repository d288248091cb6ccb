// src/errors.ts
//
// One error hierarchy (jose-style): every failure from the HSM is an HsmError subclass with the
// CKR_* name as `code`, the number as `rv`, and the native error as `cause`. Misuse of the API
// (wrong argument types) is a TypeError/RangeError thrown before any native call.

import { CKR, type HsmErrorCode } from './native/pkcs11_gen.js';

export type { HsmErrorCode };

/** Base class of every error the HSM reports. */
export class HsmError extends Error {
  /** The PKCS#11 return-code name, e.g. 'CKR_KEY_UNEXTRACTABLE'. */
  readonly code: HsmErrorCode;
  /** The PKCS#11 return value. */
  readonly rv: number;
  constructor(code: HsmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.rv = CKR[code];
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** The request was rejected: bad mechanism, parameter, template or data. */
export class HsmArgumentError extends HsmError {}
/** Who you are: login, PIN, user type. */
export class HsmAuthError extends HsmError {}
/** Lifecycle: sessions, operations, initialisation. */
export class HsmStateError extends HsmError {}
/** The key cannot do that: handle, type, size, usage, extractability. */
export class HsmKeyError extends HsmError {}
/** Hostile or corrupted input: a ciphertext or wrapped key that does not authenticate, or a stored
 *  object, user or token file that fails its integrity check (CKR_SEALHSM_INTEGRITY_FAILURE). */
export class HsmIntegrityError extends HsmError {}
/** Our bug or the environment. */
export class HsmInternalError extends HsmError {}

type ErrorClass = new (code: HsmErrorCode, message: string, options?: { cause?: unknown }) => HsmError;

const FAMILIES: ReadonlyArray<[ErrorClass, readonly string[]]> = [
  [HsmIntegrityError, ['CKR_SEALHSM_INTEGRITY_FAILURE', 'CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_AEAD_DECRYPT_FAILED', 'CKR_WRAPPED_KEY_INVALID', 'CKR_WRAPPED_KEY_LEN_RANGE', 'CKR_SIGNATURE_INVALID', 'CKR_SIGNATURE_LEN_RANGE']],
  [HsmAuthError, ['CKR_PIN_', 'CKR_USER_']],
  [HsmStateError, ['CKR_SESSION_', 'CKR_OPERATION_', 'CKR_CRYPTOKI_', 'CKR_TOKEN_', 'CKR_SLOT_ID_INVALID']],
  [HsmKeyError, ['CKR_KEY_', 'CKR_WRAPPING_KEY_', 'CKR_UNWRAPPING_KEY_', 'CKR_OBJECT_HANDLE_INVALID', 'CKR_ATTRIBUTE_SENSITIVE', 'CKR_CURVE_NOT_SUPPORTED']],
  [HsmInternalError, ['CKR_GENERAL_ERROR', 'CKR_DEVICE_', 'CKR_HOST_MEMORY', 'CKR_FUNCTION_FAILED', 'CKR_CANT_LOCK']],
];

function classFor(code: HsmErrorCode): ErrorClass {
  for (const [cls, prefixes] of FAMILIES) {
    if (prefixes.some((p) => code === p || (p.endsWith('_') && code.startsWith(p)))) return cls;
  }
  return HsmArgumentError;
}

/** Builds the right HsmError subclass for a return-code name. */
export function hsmError(code: HsmErrorCode, message: string, cause?: unknown): HsmError {
  const Cls = classFor(code);
  return new Cls(code, message, cause === undefined ? undefined : { cause });
}

function isCode(code: unknown): code is HsmErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(CKR, code);
}

/** Converts what the addon threw into an HsmError; TypeError/RangeError (misuse) pass through. */
export function fromNative(e: unknown): unknown {
  if (e instanceof HsmError || e instanceof TypeError || e instanceof RangeError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (isCode(code)) {
    const message = (e as Error).message.replace(/^CKR_[A-Z_]+: /, '');
    return hsmError(code, message, e);
  }
  return e;
}

/** Awaits a native promise and rethrows its failure as an HsmError. */
export async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw fromNative(e);
  }
}
