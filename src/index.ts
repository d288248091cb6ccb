// src/index.ts — the public entry point (re-exports only).

export { native } from './native/binding.js';
export type {
  AttributeInput,
  NativeAttribute,
  NativeBinding,
  NativeLoginState,
  NativeRole,
  NativeUser,
  NativeMechanism,
  NativeMechanismInfo,
  NativeTemplate,
  NativeTokenInfo,
} from './native/binding.js';
export { CKA, CKD, CKG, CKK, CKM, CKO, CKR } from './native/pkcs11_gen.js';
export {
  HsmArgumentError,
  HsmAuthError,
  HsmError,
  HsmIntegrityError,
  HsmInternalError,
  HsmKeyError,
  HsmStateError,
  call,
  fromNative,
  hsmError,
  type HsmErrorCode,
} from './errors.js';
export { CURVES, curveByName, curveByParams, type CurveInfo, type CurveName } from './keys/curves.js';
export { octetString, privateKeyTemplate, publicKeyTemplate, secretKeyTemplate, type KeyInput, type Template } from './keys/import.js';
export { ecPointFromAttribute, spkiToJwk, spkiToPem } from './keys/export.js';
export { derToP1363, p1363ToDer } from './keys/ecdsa_sig.js';
