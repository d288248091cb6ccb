// native/core/mech/block_cipher.h
//
// A multi-part ECB / CBC / CBC_PAD / CTR operation for any EVP block cipher (AES, Triple-DES).
#pragma once

#include <memory>
#include <string>

#include "mechanism.h"

namespace hsm {

// `cipher`: OpenSSL's name ("AES-256-CBC", "DES-EDE3-CBC"); `block`: its block size in bytes;
// `pad`: PKCS#7 (CBC_PAD); `max_blocks`: blocks before a CTR counter wraps (0 = no limit).
std::unique_ptr<CipherOp> NewBlockCipher(const std::string& cipher, std::size_t block, ByteView key, const Bytes* iv, bool encrypt, bool pad,
                                         std::size_t max_blocks);

}  // namespace hsm
