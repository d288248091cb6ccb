// native/core/mech/block_cipher.cc
//
// One multi-part block-cipher operation over an EVP_CIPHER, shared by the AES (aes_block.cc) and
// Triple-DES (des3.cc) modes: ECB/CBC without padding need whole blocks, CBC_PAD is PKCS#7, CTR
// refuses to wrap its counter. Knows nothing of sessions or N-API.
#include "block_cipher.h"

#include <openssl/evp.h>

namespace hsm {

namespace {

class BlockCipherOp final : public CipherOp {
 public:
  BlockCipherOp(const std::string& cipher, std::size_t block, ByteView key, const Bytes* iv, bool encrypt, bool pad, std::size_t max_blocks)
      : ctx_(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")), block_(block), encrypt_(encrypt), pad_(pad), max_blocks_(max_blocks) {
    const EVP_CIPHER* c = ossl::Cipher(cipher);
    if (EVP_CipherInit_ex2(ctx_.get(), c, key.data, iv ? iv->data() : nullptr, encrypt ? 1 : 0, nullptr) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "EVP_CipherInit_ex2");
    }
    EVP_CIPHER_CTX_set_padding(ctx_.get(), pad ? 1 : 0);
  }

  Bytes Update(ByteView in) override {
    total_ += in.size;
    if (max_blocks_ != 0 && (total_ + block_ - 1) / block_ > max_blocks_) {
      Fail(CKR_DATA_LEN_RANGE, "the CTR counter would wrap within ulCounterBits");
    }
    Bytes out(in.size + block_);
    out.resize(ossl::CipherUpdate(ctx_.get(), out.data(), in));
    return out;
  }

  Bytes Final() override {
    bool whole = total_ % block_ == 0;
    std::string size = std::to_string(block_);
    if (!encrypt_ && pad_ && (!whole || total_ == 0)) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "CBC_PAD ciphertext must be a non-zero multiple of " + size + " bytes");
    if (!pad_ && max_blocks_ == 0 && !is_stream() && !whole) {
      Fail(encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "input must be a multiple of the " + size + "-byte block");
    }
    Bytes out(2 * block_);
    int len = 0;
    if (EVP_CipherFinal_ex(ctx_.get(), out.data(), &len) != 1) {
      ossl::ClearErrors();
      Fail(CKR_ENCRYPTED_DATA_INVALID, "bad padding");
    }
    out.resize(static_cast<std::size_t>(len));
    return out;
  }

 private:
  bool is_stream() const { return EVP_CIPHER_CTX_get_mode(ctx_.get()) == EVP_CIPH_CTR_MODE; }
  ossl::CipherCtx ctx_;
  std::size_t block_;
  bool encrypt_, pad_;
  std::size_t max_blocks_;
  std::size_t total_ = 0;
};

}  // namespace

std::unique_ptr<CipherOp> NewBlockCipher(const std::string& cipher, std::size_t block, ByteView key, const Bytes* iv, bool encrypt, bool pad,
                                         std::size_t max_blocks) {
  return std::make_unique<BlockCipherOp>(cipher, block, key, iv, encrypt, pad, max_blocks);
}

}  // namespace hsm
