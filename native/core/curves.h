// native/core/curves.h
//
// The named curves sealhsm supports (PKCS#11 CKA_EC_PARAMS = DER OBJECT IDENTIFIER, or for
// Edwards also the PrintableString "edwards25519"), and EC point encodings (raw or DER OCTET STRING).
#pragma once

#include <cstddef>

#include "bytes.h"
#include "pkcs11.h"

namespace hsm {

struct Curve {
  const char* name;         // OpenSSL group / algorithm name
  const char* pretty;       // the name users see ("secp256r1")
  CK_KEY_TYPE key_type;     // CKK_EC or CKK_EC_EDWARDS
  const uint8_t* oid_der;   // DER of the OID, tag and length included
  std::size_t oid_der_len;
  int nid;                  // OpenSSL NID (Weierstrass curves only; 0 for Edwards)
  std::size_t field_bytes;  // coordinate / key length
  std::size_t order_bytes;  // scalar length: signature halves (r, s) have this width
  CK_ULONG bits;            // size reported in mechanism info
};

// From CKA_EC_PARAMS; CKR_CURVE_NOT_SUPPORTED for a well-formed OID we do not support,
// CKR_DOMAIN_PARAMS_INVALID for anything that is not a named-curve encoding.
const Curve& CurveFromParams(ByteView ec_params);
const Curve* CurveByName(const char* openssl_name);
ByteView CurveParams(const Curve& c);

// Accepts a raw point (uncompressed or compressed, or 32 bytes for Ed25519) or the same wrapped in a
// DER OCTET STRING; returns the raw point. CKR_ATTRIBUTE_VALUE_INVALID when it is neither.
Bytes UnwrapEcPoint(const Curve& c, ByteView v);
Bytes WrapOctetString(ByteView raw);

}  // namespace hsm
