// native/core/mech/mac_common.h
// A SignOp over EVP_MAC shared by HMAC and AES-CMAC: sign truncates to the requested length,
// verify recomputes and compares in constant time (CRYPTO_memcmp).
#pragma once

#include <string>

#include "mechanism.h"

namespace hsm {

// `param_name`/`param_value` select the MAC's digest or cipher ("digest"/"SHA2-256", "cipher"/"AES-256-CBC").
std::unique_ptr<SignOp> NewMacOp(const char* mac, const char* param_name, const std::string& param_value,
                                 ByteView key, std::size_t out_len);

// The output length for a *_GENERAL mechanism (1..full) or the full length for the plain one.
std::size_t MacLength(const MechParams& p, bool general, std::size_t full);

}  // namespace hsm
