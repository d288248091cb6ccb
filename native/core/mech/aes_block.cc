// native/core/mech/aes_block.cc
//
// CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_CTR (PKCS#11 v3.0 §2.14.x): multi-part
// encrypt/decrypt over EVP_CIPHER. ECB/CBC without padding need whole blocks; CBC_PAD uses PKCS#7.
#include <openssl/evp.h>

#include "aes_common.h"

namespace hsm {

namespace {

class AesBlockOp final : public CipherOp {
 public:
  AesBlockOp(const Object& key, const char* mode, const Bytes* iv, bool encrypt, bool pad, std::size_t max_blocks)
      : ctx_(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")), encrypt_(encrypt), pad_(pad), max_blocks_(max_blocks) {
    const EVP_CIPHER* c = ossl::Cipher(AesName(key.secret.size(), mode));
    if (EVP_CipherInit_ex2(ctx_.get(), c, key.secret.data(), iv ? iv->data() : nullptr, encrypt ? 1 : 0, nullptr) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "EVP_CipherInit_ex2");
    }
    EVP_CIPHER_CTX_set_padding(ctx_.get(), pad ? 1 : 0);
  }

  Bytes Update(ByteView in) override {
    total_ += in.size;
    if (max_blocks_ != 0 && (total_ + 15) / 16 > max_blocks_) {
      Fail(CKR_DATA_LEN_RANGE, "AES-CTR counter would wrap within ulCounterBits");
    }
    Bytes out(in.size + 16);
    out.resize(ossl::CipherUpdate(ctx_.get(), out.data(), in));
    return out;
  }

  Bytes Final() override {
    bool whole = total_ % 16 == 0;
    if (!encrypt_ && pad_ && (!whole || total_ == 0)) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "CBC_PAD ciphertext must be a non-zero multiple of 16 bytes");
    if (!pad_ && max_blocks_ == 0 && !is_stream() && !whole) {
      Fail(encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "input must be a multiple of the 16-byte block");
    }
    Bytes out(32);
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
  bool encrypt_, pad_;
  std::size_t max_blocks_;
  std::size_t total_ = 0;
};

const Bytes& NeedIv16(const MechParams& p) {
  const Bytes& iv = Need(p.iv, "iv");
  if (iv.size() != 16) Fail(CKR_MECHANISM_PARAM_INVALID, "the IV must be 16 bytes");
  return iv;
}

std::unique_ptr<CipherOp> Ecb(const Object& k, const MechParams& p, bool enc) {
  if (p.iv) Fail(CKR_MECHANISM_PARAM_INVALID, "CKM_AES_ECB takes no parameter");
  return std::make_unique<AesBlockOp>(k, "ECB", nullptr, enc, false, 0);
}
std::unique_ptr<CipherOp> Cbc(const Object& k, const MechParams& p, bool enc) {
  return std::make_unique<AesBlockOp>(k, "CBC", &NeedIv16(p), enc, false, 0);
}
std::unique_ptr<CipherOp> CbcPad(const Object& k, const MechParams& p, bool enc) {
  return std::make_unique<AesBlockOp>(k, "CBC", &NeedIv16(p), enc, true, 0);
}
std::unique_ptr<CipherOp> Ctr(const Object& k, const MechParams& p, bool enc) {
  const Bytes& cb = NeedIv16(p);
  CK_ULONG bits = Need(p.counter_bits, "counterBits");
  if (bits == 0 || bits > 128) Fail(CKR_MECHANISM_PARAM_INVALID, "counterBits must be 1..128");
  std::size_t max_blocks = 0;  // 0 = no practical limit
  if (bits < 64) {
    // Blocks left before the low `bits` bits of the counter block wrap.
    unsigned long long ctr = 0;
    for (int i = 8; i < 16; ++i) ctr = (ctr << 8) | cb[i];
    unsigned long long mask = (1ULL << bits) - 1;
    max_blocks = static_cast<std::size_t>(mask - (ctr & mask) + 1);
  }
  return std::make_unique<AesBlockOp>(k, "CTR", &cb, enc, false, max_blocks);
}

}  // namespace

void RegisterAesBlock(std::vector<MechanismInfo>& r) {
  const unsigned aes = KeyTypeBit(CKK_AES);
  const CK_FLAGS ed = CKF_ENCRYPT | CKF_DECRYPT;
  r.push_back({CKM_AES_ECB, "CKM_AES_ECB", ed, kAesMinKey, kAesMaxKey, aes, ParamKind::kNone, true, Ecb});
  r.push_back({CKM_AES_CBC, "CKM_AES_CBC", ed, kAesMinKey, kAesMaxKey, aes, ParamKind::kIv16, true, Cbc});
  r.push_back({CKM_AES_CBC_PAD, "CKM_AES_CBC_PAD", ed | CKF_WRAP | CKF_UNWRAP, kAesMinKey, kAesMaxKey, aes, ParamKind::kIv16, true, CbcPad});
  r.push_back({CKM_AES_CTR, "CKM_AES_CTR", ed, kAesMinKey, kAesMaxKey, aes, ParamKind::kCtr, true, Ctr});
}

}  // namespace hsm
