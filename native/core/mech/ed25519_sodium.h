// native/core/mech/ed25519_sodium.h
//
// Ed25519 signing and key generation through libsodium, when the build links it (SEALHSM_SODIUM,
// set by scripts/sodium-gyp.mjs). OpenSSL computes Ed25519 with portable 32-bit field arithmetic;
// libsodium's 64-bit arithmetic signs and makes keys about 2.3x faster on x86-64. Signatures are the
// same bytes (RFC 8032 Ed25519 is deterministic), keys stay EVP_PKEYs in OpenSSL's secure heap, and
// verification stays with OpenSSL, so what verifies does not change. Without libsodium both return
// "not done" and the caller uses OpenSSL.
#pragma once

#include <openssl/evp.h>

#include <cstdint>

#include "../bytes.h"
#include "../ossl.h"

namespace hsm::ed25519 {

// Signs `msg` with the Ed25519 key `pkey` into `sig` (64 bytes); false when built without libsodium.
// The 64-byte signing key exists only in locked memory for the call and is wiped before returning.
bool Sign(EVP_PKEY* pkey, ByteView msg, uint8_t* sig);

// What signs Ed25519 in this build: "libsodium <version>" or "OpenSSL".
const char* Implementation();

// A new Ed25519 key pair (a seed from OpenSSL's private DRBG, its public key from libsodium), or
// null when built without libsodium.
ossl::Pkey Generate();

}  // namespace hsm::ed25519
