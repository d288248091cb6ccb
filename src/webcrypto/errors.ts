// src/webcrypto/errors.ts
//
// Web Crypto reports failures as DOMExceptions with a name the spec chooses for each step
// (NotSupportedError, SyntaxError, InvalidAccessError, DataError, OperationError) or as a TypeError
// from WebIDL conversion. What webcrypto-core and the HSM throw is translated here, once, at the
// SubtleCrypto boundary; the HsmError (with its CKR code) stays reachable as `cause`.

import * as core from 'webcrypto-core';

import { HsmError } from '../errors.js';

export type DomErrorName = 'NotSupportedError' | 'SyntaxError' | 'InvalidAccessError' | 'DataError' | 'OperationError';

/** A DOMException with the given spec name. */
export function domError(name: DomErrorName, message: string, cause?: unknown): DOMException {
  const e = new DOMException(message, name);
  if (cause !== undefined) Object.defineProperty(e, 'cause', { value: cause, configurable: true, writable: true });
  return e;
}

// What each HSM return code means at the Web Crypto surface, when the step itself does not say.
const HSM_NAMES: ReadonlyArray<[DomErrorName, readonly string[]]> = [
  ['NotSupportedError', ['CKR_MECHANISM_INVALID', 'CKR_CURVE_NOT_SUPPORTED']],
  ['InvalidAccessError', ['CKR_KEY_FUNCTION_NOT_PERMITTED', 'CKR_KEY_TYPE_INCONSISTENT', 'CKR_KEY_UNEXTRACTABLE', 'CKR_ATTRIBUTE_SENSITIVE', 'CKR_KEY_NOT_WRAPPABLE']],
];

/** The DOMException for anything thrown below the facade. `fallback` is the name the current step
 *  gives to a failure of the underlying operation (DataError while importing, OperationError else). */
export function toDomError(e: unknown, fallback: DomErrorName = 'OperationError'): unknown {
  if (e instanceof DOMException || e instanceof TypeError) return e;
  if (e instanceof HsmError) {
    const name = HSM_NAMES.find(([, codes]) => codes.includes(e.code))?.[0] ?? fallback;
    return domError(name, `${e.message} (${e.code})`, e);
  }
  if (e instanceof core.RequiredPropertyError) return new TypeError(e.message, { cause: e });
  if (e instanceof core.AlgorithmError || e instanceof core.UnsupportedOperationError) return domError('NotSupportedError', e.message, e);
  if (e instanceof core.OperationError) return domError('OperationError', e.message, e);
  if (e instanceof core.CryptoError) return domError('InvalidAccessError', e.message, e);
  if (e instanceof SyntaxError) return domError('SyntaxError', e.message, e);
  if (e instanceof RangeError) return new TypeError(e.message, { cause: e });
  return domError(fallback, e instanceof Error ? e.message : String(e), e);
}

/** Runs `f`, turning whatever it throws into the step's DOMException. */
export async function step<T>(fallback: DomErrorName, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw toDomError(e, fallback);
  }
}
