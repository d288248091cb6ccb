// native/core/store/state_mac.h
//
// Authentication of token state at rest (issue: harden the seal). One HMAC-SHA256 key derived from
// the token's state key (HKDF, its own label; every user's wrap holds it) signs every user row, every object row, the token
// header and the manifest (generation, row count and the XOR of every live row's MAC), so an edited,
// inserted, deleted or restored row, or an edited header, is detected once the state key is open.
// Knows nothing of SQLite or sessions.
#pragma once

#include <cstdint>
#include <string>

#include "../bytes.h"

namespace hsm::statemac {

constexpr std::size_t kMacBytes = 32;

// HKDF-SHA256(master, info "sealhsm token state v2"): the key that signs rows and the manifest.
SecureBytes DeriveKey(ByteView master);

// A message made of length-prefixed fields, so no two different field lists encode alike.
class Message {
 public:
  explicit Message(const char* domain);
  Message& Add(ByteView field);
  Message& Add(const std::string& field);
  Message& Add(uint64_t field);
  Bytes Sign(ByteView key) const;  // HMAC-SHA256
  bool Verify(ByteView key, ByteView mac) const;  // constant-time comparison
  const Bytes& bytes() const { return data_; }

 private:
  Bytes data_;
};

// The manifest: the state of the whole token at one generation.
struct Manifest {
  int64_t gen = 0;
  int64_t rows = 0;
  Bytes digest = Bytes(kMacBytes, 0);  // XOR of the MAC of every live row
  Bytes Encode(ByteView key, ByteView token_id) const;  // gen || rows || digest || mac
  // CKR_SEALHSM_INTEGRITY_FAILURE when the encoding is malformed or its MAC does not verify.
  static Manifest Decode(ByteView key, ByteView token_id, ByteView blob);
};

void XorInto(Bytes& acc, ByteView mac);  // acc ^= mac (both kMacBytes)

}  // namespace hsm::statemac
