// native/core/mech/block_cipher.h
//
// A multi-part ECB / CBC / CBC_PAD / CTR operation for any EVP block cipher (AES, Triple-DES).
#pragma once

#include <memory>
#include <string>

#include "mechanism.h"

namespace hsm {

// `cipher`: OpenSSL's name ("AES-256-CBC", "DES-EDE3-CBC"); `block`: its block size in bytes;
// `pad`: PKCS#7 (CBC_PAD); `counter_bits`: for CTR, how many low bits of the counter block count
// (1..128, PKCS#11's ulCounterBits; 0 for the other modes).
std::unique_ptr<CipherOp> NewBlockCipher(const std::string& cipher, std::size_t block, ByteView key, const Bytes* iv, bool encrypt, bool pad,
                                         unsigned counter_bits);

}  // namespace hsm
