// native/core/mech/block_cipher.cc
//
// One multi-part block-cipher operation over an EVP_CIPHER, shared by the AES (aes_block.cc) and
// Triple-DES (des3.cc) modes: ECB/CBC without padding need whole blocks, CBC_PAD is PKCS#7. CTR
// counts in the low ulCounterBits of the counter block only: when they wrap, the bits above them (the
// nonce) stay as they were, as PKCS#11, NIST SP 800-38A and Web Crypto define it; OpenSSL would carry
// into the nonce, so the context restarts there with the low bits zero. More than 2^bits blocks
// would reuse a counter block, which is refused. Knows nothing of sessions or N-API.
#include "block_cipher.h"

#include <openssl/evp.h>

#include <cstdint>
#include <limits>

namespace hsm {

namespace {

class BlockCipherOp final : public CipherOp {
 public:
  BlockCipherOp(const std::string& cipher, std::size_t block, ByteView key, const Bytes* iv, bool encrypt, bool pad, unsigned counter_bits)
      : ctx_(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")), block_(block), encrypt_(encrypt), pad_(pad) {
    const EVP_CIPHER* c = ossl::Cipher(cipher);
    if (EVP_CipherInit_ex2(ctx_.get(), c, key.data, iv ? iv->data() : nullptr, encrypt ? 1 : 0, nullptr) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "EVP_CipherInit_ex2");
    }
    EVP_CIPHER_CTX_set_padding(ctx_.get(), pad ? 1 : 0);
    if (counter_bits > 0 && counter_bits < 8 * block && iv != nullptr) PlanCounter(*iv, counter_bits);
  }

  Bytes Update(ByteView in) override {
    Bytes out(in.size + block_);
    out.resize(UpdateInto(in, out.data()));
    return out;
  }

  Bytes Final() override {
    Bytes out(2 * block_);
    out.resize(FinalInto(out.data()));
    return out;
  }

  std::size_t OnceBound(std::size_t in) const override { return in + 2 * block_; }
  std::size_t UpdateBound(std::size_t in) const override { return in + block_; }

  std::size_t OnceInto(ByteView in, uint8_t* out) override {
    std::size_t n = UpdateInto(in, out);
    try {
      return n + FinalInto(out + n);
    } catch (...) {
      WipeMemory(out, n);  // bad padding or length: nothing decrypted is released
      throw;
    }
  }

  // At most in.size + block_ bytes.
  std::size_t UpdateInto(ByteView in, uint8_t* out) override {
    const std::uint64_t before = total_;
    total_ += in.size;
    if (total_ < before || (total_ + block_ - 1) / block_ > limit_blocks_) {
      Fail(CKR_DATA_LEN_RANGE, "more than 2^ulCounterBits blocks would reuse a CTR counter block");
    }
    std::size_t n = 0;
    if (wrap_pending_ && total_ > wrap_at_) {
      // The low counter bits wrap at byte wrap_at_ (a block boundary): restart from the nonce.
      std::size_t first = static_cast<std::size_t>(wrap_at_ > before ? wrap_at_ - before : 0);
      n = ossl::CipherUpdate(ctx_.get(), out, ByteView{in.data, first});
      if (EVP_CipherInit_ex2(ctx_.get(), nullptr, nullptr, wrap_iv_.data(), -1, nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EVP_CipherInit_ex2");
      wrap_pending_ = false;
      in = ByteView{in.data + first, in.size - first};
    }
    return n + ossl::CipherUpdate(ctx_.get(), out + n, in);
  }

 private:
  // At most 2 * block_ bytes.
  std::size_t FinalInto(uint8_t* out) {
    bool whole = total_ % block_ == 0;
    std::string size = std::to_string(block_);
    if (!encrypt_ && pad_ && (!whole || total_ == 0)) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "CBC_PAD ciphertext must be a non-zero multiple of " + size + " bytes");
    if (!pad_ && !is_stream() && !whole) {
      Fail(encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "input must be a multiple of the " + size + "-byte block");
    }
    int len = 0;
    if (EVP_CipherFinal_ex(ctx_.get(), out, &len) != 1) {
      ossl::ClearErrors();
      Fail(CKR_ENCRYPTED_DATA_INVALID, "bad padding");
    }
    return static_cast<std::size_t>(len);
  }

  bool is_stream() const { return EVP_CIPHER_CTX_get_mode(ctx_.get()) == EVP_CIPH_CTR_MODE; }

  // Where the low `bits` of the counter wrap, and how many blocks the counter allows in all.
  void PlanCounter(const Bytes& iv, unsigned bits) {
    using u128 = unsigned __int128;
    u128 ctr = 0;
    for (std::size_t i = 0; i < block_; ++i) ctr = (ctr << 8) | iv[i];
    const u128 span = u128{1} << bits;
    const u128 low = ctr & (span - 1);
    const u128 cap = std::numeric_limits<std::uint64_t>::max();
    const u128 wrap_bytes = (span - low) * block_;
    wrap_at_ = static_cast<std::uint64_t>(wrap_bytes < cap ? wrap_bytes : cap);
    wrap_pending_ = wrap_bytes < cap;
    limit_blocks_ = static_cast<std::uint64_t>(span < cap ? span : cap);
    wrap_iv_ = iv;
    for (unsigned b = 0; b < bits; ++b) wrap_iv_[block_ - 1 - b / 8] &= static_cast<unsigned char>(~(1u << (b % 8)));
  }

  ossl::CipherCtx ctx_;
  std::size_t block_;
  bool encrypt_, pad_;
  std::uint64_t total_ = 0;
  std::uint64_t limit_blocks_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t wrap_at_ = 0;
  bool wrap_pending_ = false;
  Bytes wrap_iv_;
};

}  // namespace

std::unique_ptr<CipherOp> NewBlockCipher(const std::string& cipher, std::size_t block, ByteView key, const Bytes* iv, bool encrypt, bool pad,
                                         unsigned counter_bits) {
  return std::make_unique<BlockCipherOp>(cipher, block, key, iv, encrypt, pad, counter_bits);
}

}  // namespace hsm
