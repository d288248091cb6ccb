// native/core/store/seal.h
//
// Sealing at rest (DESIGN "The sealed slot"): AES-256-GCM under a 32-byte key, a fresh
// 12-byte nonce per seal, and additional data that binds a blob to what it belongs to (token id,
// object handle, class, key type and the stored attributes), so a blob moved to another object, an
// edited attribute or a truncated row fails the check. Output: nonce || ciphertext || tag.
#pragma once

#include <string>

#include "../bytes.h"

namespace hsm::seal {

Bytes Seal(ByteView key, ByteView aad, ByteView plain);
// Throws CKR_SEALHSM_INTEGRITY_FAILURE "integrity check failed for <what>" on any mismatch.
SecureBytes Open(ByteView key, ByteView aad, ByteView blob, const std::string& what);

}  // namespace hsm::seal
