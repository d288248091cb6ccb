// native/core/rsa_check.h
//
// The consistency of an RSA private key that came from outside (import, unwrap), checked on its own
// numbers with OpenSSL's BIGNUM arithmetic in the secure heap (a secure BN_CTX; every temporary
// cleared): n = p·q with p ≠ q of 256 bits or more, d < n, dp = d mod (p−1), dq = d mod (q−1), qi·q ≡ 1 (mod p), and
// e·dp ≡ 1 (mod p−1), e·dq ≡ 1 (mod q−1) — so d inverts e. OpenSSL's own EVP_PKEY_check does these
// and a full primality test (~195 ms a key), and frees its temporaries uncleared (qi stayed in freed
// heap, byte-reversed, and showed in core dumps). Primality is not tested: a wrong prime harms only
// the key's importer, whose key it is; the pairwise test (keys.cc) still runs. No N-API here.
#pragma once

#include <openssl/bn.h>

#include "error.h"

namespace hsm {

struct RsaNumbers {
  const BIGNUM *n, *e, *d;
  const BIGNUM *p, *q, *dp, *dq, *qi;  // all given, or all null (a key without its factors)
};

// CKR `bad` (CKR_ATTRIBUTE_VALUE_INVALID, CKR_WRAPPED_KEY_INVALID) naming what does not hold.
void CheckRsaNumbers(const RsaNumbers& k, CK_RV bad);

}  // namespace hsm
