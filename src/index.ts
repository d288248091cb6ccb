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
export type { JsonWebKey } from './keys/jwk.js';
export { octetString, privateKeyMaterial, privateKeyTemplate, type PrivateKeyMaterial, publicKeyTemplate, secretKeyTemplate, type KeyInput, type Template } from './keys/import.js';
export { ecPointFromAttribute, spkiToJwk, spkiToPem } from './keys/export.js';
export { derToP1363, p1363ToDer } from './keys/ecdsa_sig.js';

// The CloudHSM-shaped client.
export { SealHsm, PROFILES, type LoginInfo, type MemoryOptions, type OpenOptions, type ProfileName, type UnsealKeySource } from './client/hsm.js';
export { DamagedKeysError, KeyManager, parseCliFilter, type KeyFilter, type KeyPair } from './client/keys.js';
export { KeyHandle, type GcmResult, type KeyInfo, type PublicKeyFormat } from './client/key_handle.js';
export { CipherStream, type CipherStreamOptions } from './client/streams.js';
export { UserManager, type Role, type UserInfo } from './client/users.js';
export type { KeyAttributes, KeyClass, KeyType, SettableAttributes } from './client/attributes.js';
export { cipherMechanism, signMechanism } from './client/mechanisms.js';
export type {
  AesCtrOptions, AesGcmOptions, AesIvOptions, CloudHsmAesGcmOptions, EncryptMechanism, HashName, MacGeneralOptions,
  OaepOptions, PssOptions, RsaAesWrapOptions, SignMechanism, SimpleCipherMechanism, SimpleSignMechanism, WrapMechanism,
} from './client/mechanisms.js';

// The PKCS#11 module built with this package.
export { pkcs11Config, pkcs11ModulePath, pkcs11Provisioning, type Pkcs11SlotOptions, type ProvisionedUser } from './pkcs11/module.js';

// Web Crypto over the HSM (`hsm.subtle`, `hsm.crypto`).
export type { HsmCrypto, HsmCryptoKey, HsmKeyOptions, HsmSubtleCrypto } from './webcrypto/types.js';

// Certificates: token objects and the issuing helpers (`hsm.certificates`, `hsm.pki`).
export { CertificateHandle, CertificateManager, type CertificateFilter, type CertificateInfo, type CertificateInput } from './certs/objects.js';
export { Pki, type Encoded, type PkiHash, type PkiIssuer, type PkiKey, type PkiKeyPair } from './certs/pki.js';
export type { AltNames, CrlReason, KeyUsageName, NameInput } from './certs/types.js';

// JWS, JWT and JWKS signed in the HSM.
export { JWS_ALGORITHMS, type JwsAlgorithm } from './jose/algorithms.js';
export { JoseError, type JoseErrorCode } from './jose/errors.js';
export { signCompact as signJws, verifyCompact as verifyJws, type JoseKey, type JwsHeader, type VerificationKey, type VerifyOptions } from './jose/jws.js';
export { signJwt, verifyJwt, type Duration, type JwtClaims, type SignJwtOptions, type VerifyJwtOptions } from './jose/jwt.js';
export { createJwks, jwkThumbprint, publicJwk } from './jose/jwks.js';

// A KMS-compatible endpoint on the HSM.
export { startKmsServer, type KmsServer, type KmsServerOptions } from './kms/server.js';
export type { AccessKey } from './aws/sigv4.js';
export type { Faults } from './kms/throttle.js';
