// native/core/keys.h
//
// Key material ⇄ PKCS#11 attributes (v3.0 §2.1 RSA, §2.3 EC, §2.3.5 Edwards, §2.8 AES, §4.8 generic
// secret): building an EVP_PKEY from a C_CreateObject template, deriving the readable public
// attributes from a key, and PKCS#8 encoding for wrap/unwrap. No sessions, no N-API here.
#pragma once

#include "object.h"

namespace hsm {

// C_CreateObject / unwrap: take the key material out of `tmpl` (secret components never stay in
// attributes) and set obj.secret or obj.pkey. Errors: CKR_TEMPLATE_INCOMPLETE (missing material),
// CKR_ATTRIBUTE_VALUE_INVALID (malformed or inconsistent material).
void MaterialFromTemplate(Object& obj, Attributes& tmpl);

// A secret key value checked against its key type (AES: 16/24/32 bytes; generic: 1..800 bytes).
void CheckSecretLength(CK_KEY_TYPE kt, std::size_t n, CK_RV rv_if_bad);

// Sets the public, readable attributes of an asymmetric key from obj.pkey: RSA modulus, exponent
// and size; EC params and point (public objects); CKA_PUBLIC_KEY_INFO (SPKI DER) on both halves.
// `raw_public`: the key's raw public value when the caller already has it (RawPublicKey): reading
// an EC point out of OpenSSL converts it to affine coordinates, a field inversion each time.
void SetPublicAttributes(Object& obj, const Bytes* raw_public = nullptr);
// The uncompressed EC point, or the 32-byte Ed25519 public key.
Bytes RawPublicKey(const Object& obj);
// Secret keys: CKA_VALUE_LEN and CKA_CHECK_VALUE.
void SetSecretAttributes(Object& obj);

// The public half of an asymmetric key as its own EVP_PKEY (for a generated public object);
// `full` must have its key type and curve set.
ossl::Pkey PublicOnly(const Object& full, const Bytes* raw_public = nullptr);

// PKCS#8 PrivateKeyInfo of a private key, as a secret. And back, checking the key type.
// A private key object's PKCS#8 PrivateKeyInfo (pkcs8.h: written in place, no unwiped copies).
SecureBytes EncodePkcs8(const Object& key);
// The public point of a private scalar on a Weierstrass curve (uncompressed); the scalar must be in
// [1, n-1] (CKR_ATTRIBUTE_VALUE_INVALID otherwise).
Bytes EcPublicPointFor(const Curve& c, const BIGNUM* priv);
// `validate`: check the key (key material from outside: unwrap; see CheckKeyMaterial and
// rsa_check.h); rows read back from our own store were checked when they were made.
ossl::Pkey DecodePkcs8(ByteView der, CK_KEY_TYPE expected, const Curve** curve_out, bool validate = true,
                       CK_RV bad = CKR_WRAPPED_KEY_INVALID);

// An EC public key on `c` from a raw point; the point must lie on the curve (CKR_PUBLIC_KEY_INVALID
// otherwise — used for ECDH peer keys).
ossl::Pkey EcPublicFromPoint(const Curve& c, ByteView raw_point, CK_RV rv_if_bad, EVP_PKEY* like = nullptr);

}  // namespace hsm
