// native/core/mech/rsa_common.h
// Shared by the RSA mechanism files: a SignOp that hashes (or buffers raw input) and signs with a
// configured padding, and a single-part EVP_PKEY encrypt/decrypt op.
#pragma once

#include <openssl/rsa.h>

#include "mechanism.h"

namespace hsm {

inline constexpr CK_ULONG kRsaMinBits = 1024, kRsaMaxBits = 16384;

struct RsaSignConfig {
  const char* hash = nullptr;      // hash-and-sign mechanisms: digest computed in Update
  int padding = RSA_PKCS1_PADDING; // RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING or RSA_NO_PADDING
  const char* pss_hash = nullptr;  // PSS: hash named by the parameters
  const char* mgf_hash = nullptr;
  int salt_len = 0;
};

std::unique_ptr<SignOp> NewRsaSignOp(const Object& key, const RsaSignConfig& cfg);

// Configures `ctx` (already encrypt- or decrypt-initialised) for OAEP from the parameters.
void ApplyOaep(EVP_PKEY_CTX* ctx, const MechParams& p);
// Modulus length in bytes.
std::size_t RsaBytes(const Object& key);

class RsaCipherOp final : public CipherOp {
 public:
  // padding: RSA_PKCS1_PADDING / RSA_NO_PADDING, or OAEP when `oaep` is given. max_in: largest plaintext.
  RsaCipherOp(const Object& key, bool encrypt, int padding, const MechParams* oaep, std::size_t max_in);
  Bytes Update(ByteView in) override;
  Bytes Final() override;

 private:
  const Object& key_;
  bool encrypt_;
  int padding_;
  const MechParams* oaep_;
  MechParams oaep_copy_;
  std::size_t max_in_;
  Bytes in_;
};

}  // namespace hsm
