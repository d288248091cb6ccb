// native/core/mech/aes_common.h
// Helpers shared by the AES mechanism files: the OpenSSL cipher name for a key and mode, and the
// key-size range (bytes) every AES mechanism reports.
#pragma once

#include <string>

#include "mechanism.h"

namespace hsm {

inline constexpr CK_ULONG kAesMinKey = 16, kAesMaxKey = 32;

inline std::string AesName(std::size_t key_bytes, const char* mode) {
  return "AES-" + std::to_string(key_bytes * 8) + "-" + mode;
}

// RFC 3394 / RFC 5649 key wrap with the key's AES (used by CKM_AES_KEY_WRAP*, CKM_RSA_AES_KEY_WRAP).
Bytes AesKeyWrap(ByteView key, ByteView data, bool pad);
// Unwrap; CKR_ENCRYPTED_DATA_INVALID on an integrity failure, _LEN_RANGE on a bad length.
Bytes AesKeyUnwrap(ByteView key, ByteView data, bool pad);

}  // namespace hsm
