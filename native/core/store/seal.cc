// native/core/store/seal.cc
#include "seal.h"

#include <openssl/evp.h>

#include "../ossl.h"

namespace hsm::seal {

namespace {
constexpr std::size_t kNonce = 12, kTag = 16;
}

Bytes Seal(ByteView key, ByteView aad, ByteView plain) {
  if (key.size != 32) Fail(CKR_GENERAL_ERROR, "a sealing key is 32 bytes");
  Bytes out(kNonce + plain.size + kTag);
  ossl::RandomInto(out.data(), kNonce);
  ossl::CipherCtx ctx(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new"));
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx.get(), ossl::Cipher("AES-256-GCM"), key.data, out.data(), nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "seal");
  (void)ossl::CipherUpdate(ctx.get(), nullptr, aad);
  (void)ossl::CipherUpdate(ctx.get(), out.data() + kNonce, plain);
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonce + plain.size, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTag, out.data() + kNonce + plain.size) != 1) {
    ossl::Raise(CKR_GENERAL_ERROR, "seal");
  }
  return out;
}

SecureBytes Open(ByteView key, ByteView aad, ByteView blob, const std::string& what) {
  if (blob.size < kNonce + kTag) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + what + ": the sealed data is truncated");
  std::size_t n = blob.size - kNonce - kTag;
  SecureBytes out(n);
  ossl::CipherCtx ctx(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new"));
  int len = 0;
  if (EVP_DecryptInit_ex2(ctx.get(), ossl::Cipher("AES-256-GCM"), key.data, blob.data, nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "unseal");
  (void)ossl::CipherUpdate(ctx.get(), nullptr, aad);
  (void)ossl::CipherUpdate(ctx.get(), out.data(), ByteView(blob.data + kNonce, n));
  bool ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTag, const_cast<uint8_t*>(blob.data + kNonce + n)) == 1;
  unsigned char tail[16];
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), tail, &len) == 1;
  ossl::ClearErrors();
  if (!ok) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + what + ": it was modified, swapped or belongs to another token");
  return out;
}

}  // namespace hsm::seal
