// native/core/pkcs8.h
//
// PKCS#8 PrivateKeyInfo (RFC 5208; RFC 8017 A.1.2, RFC 5915, RFC 8410 inside) for RSA, EC and
// Ed25519 keys, without OpenSSL's encoder and decoder: in OpenSSL 3.0 both pass the DER through a
// heap buffer they free unwiped (ASN1_item_i2d_bio, der2key), which left private keys in core dumps.
// Here OpenSSL's DER header functions (ASN1_get_object, ASN1_put_object, ASN1_object_size) walk and
// lay out the structure in place: read components go straight into secure-heap BIGNUMs, written
// ones straight into SecureBytes. No sessions or N-API here.
#pragma once

#include "curves.h"
#include "ossl.h"

namespace hsm {

// `bad` is the code for malformed or unsupported input (CKR_WRAPPED_KEY_INVALID when unwrapping,
// CKR_ATTRIBUTE_VALUE_INVALID when importing). Sets the key type and, for EC keys, the curve.
// `check_numbers`: an RSA key's numbers are checked as they are read (rsa_check.h).
ossl::Pkey ParsePkcs8(ByteView der, CK_KEY_TYPE* key_type, const Curve** curve, CK_RV bad, bool check_numbers = false);

// The length of the DER element `der` starts with (header and contents), 0 when it is malformed:
// how a zero-padded key wrap (CloudHSM's AES_KEY_WRAP_ZERO_PAD) finds where the key ends.
std::size_t DerElementLength(ByteView der);

// The PrivateKeyInfo of an RSA, EC (named curve; with the public key, without repeated parameters,
// as OpenSSL writes it) or Ed25519 key.
SecureBytes WritePkcs8(EVP_PKEY* key, const Curve* curve);

}  // namespace hsm
