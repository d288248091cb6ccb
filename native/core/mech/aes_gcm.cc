// native/core/mech/aes_gcm.cc
//
// CKM_AES_GCM (PKCS#11 v3.0 §2.14.x, CK_GCM_PARAMS): encrypt streams and appends the tag at Final;
// decrypt buffers until Final so no plaintext is released before the tag is checked.
// Tag failures are one opaque CKR_ENCRYPTED_DATA_INVALID. Where the profile says so (CloudHSM), the
// token makes a 12-byte IV for every encryption and hands it back (GeneratedIv), ignoring the
// caller's; CKM_CLOUDHSM_AES_GCM (vendor) takes no IV and puts the generated one before the
// ciphertext, and on decrypt reads it from there.
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "../profile.h"
#include "aes_common.h"

namespace hsm {

namespace {

class GcmOp final : public CipherOp {
 public:
  GcmOp(const Object& key, const MechParams& p, bool encrypt, bool prepend)
      : ctx_(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")), key_(key), p_(p), encrypt_(encrypt), prepend_(prepend) {
    if (prepend && p.iv) Fail(CKR_MECHANISM_PARAM_INVALID, "CKM_CLOUDHSM_AES_GCM takes no IV: the token makes it and prepends it");
    if (encrypt && (p.generate_iv || prepend)) {
      if (!prepend && Need(p.iv, "iv").size() != 12) Fail(CKR_MECHANISM_PARAM_INVALID, "pass a 12-byte IV buffer; the token writes the IV it generates into it");
      generated_ = ossl::RandomBytes(12);
      Init(generated_);
    } else if (!prepend) {
      Init(Need(p.iv, "iv"));
    }  // prepend + decrypt: the IV is the first 12 bytes of the input (Final)
  }

  const Bytes* GeneratedIv() const override { return generated_.empty() ? nullptr : &generated_; }

  Bytes Update(ByteView in) override {
    if (!encrypt_) {
      Append(buffered_, in);
      return {};
    }
    Bytes out;
    if (prepend_ && !iv_emitted_) {
      out = generated_;
      iv_emitted_ = true;
    }
    Append(out, Run(in));
    return out;
  }

  Bytes Final() override {
    Bytes out;
    if (!encrypt_ && prepend_) {
      if (buffered_.size() < 12) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "the input must start with the 12-byte IV");
      Init(Bytes(buffered_.begin(), buffered_.begin() + 12));
      buffered_.erase(buffered_.begin(), buffered_.begin() + 12);
    }
    if (encrypt_ && prepend_ && !iv_emitted_) {
      out = generated_;
      iv_emitted_ = true;
    }
    if (!encrypt_) {
      if (buffered_.size() < tag_len_) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "ciphertext is shorter than the tag");
      std::size_t body = buffered_.size() - tag_len_;
      if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_len_), buffered_.data() + body) != 1) {
        ossl::Raise(CKR_GENERAL_ERROR, "GCM set tag");
      }
      out = Run(ByteView(buffered_.data(), body));
    }
    unsigned char tail[16];
    int len = 0;
    if (EVP_CipherFinal_ex(ctx_.get(), tail, &len) != 1) {
      ossl::ClearErrors();
      WipeMemory(out.data(), out.size());
      Fail(CKR_ENCRYPTED_DATA_INVALID, "authentication failed");
    }
    if (encrypt_) {
      unsigned char tag[16];
      if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_len_), tag) != 1) {
        ossl::Raise(CKR_GENERAL_ERROR, "GCM get tag");
      }
      Append(out, ByteView(tag, tag_len_));
    }
    return out;
  }

 private:
  void Init(const Bytes& iv) {
    const MechParams& p = p_;
    const Object& key = key_;
    // OpenSSL's GCM keeps at most 128 IV bytes; longer IVs are refused rather than mishandled.
    if (iv.empty() || iv.size() > 128) Fail(CKR_MECHANISM_PARAM_INVALID, "the GCM IV must be 1..128 bytes");
    CK_ULONG bits = p.tag_bits.value_or(128);
    if (bits != 32 && bits != 64 && (bits < 96 || bits > 128 || bits % 8 != 0)) {
      Fail(CKR_MECHANISM_PARAM_INVALID, "tagBits must be 32, 64, or 96..128 in steps of 8");
    }
    tag_len_ = bits / 8;
    std::size_t ivlen = iv.size();
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen), OSSL_PARAM_construct_end()};
    const EVP_CIPHER* c = ossl::Cipher(AesName(key.secret.size(), "GCM"));
    if (EVP_CipherInit_ex2(ctx_.get(), c, key.secret.data(), iv.data(), encrypt_ ? 1 : 0, params) != 1) {
      ossl::Raise(CKR_MECHANISM_PARAM_INVALID, "GCM init");
    }
    if (p.aad && !p.aad->empty()) (void)ossl::CipherUpdate(ctx_.get(), nullptr, *p.aad);
  }

  Bytes Run(ByteView in) {
    Bytes out(in.size);
    out.resize(ossl::CipherUpdate(ctx_.get(), out.data(), in));
    return out;
  }

  ossl::CipherCtx ctx_;
  const Object& key_;
  MechParams p_;
  bool encrypt_, prepend_;
  bool iv_emitted_ = false;
  std::size_t tag_len_ = 16;
  Bytes generated_;
  Bytes buffered_;
};

std::unique_ptr<CipherOp> Gcm(const Object& k, const MechParams& p, bool enc) { return std::make_unique<GcmOp>(k, p, enc, false); }
std::unique_ptr<CipherOp> CloudHsmGcm(const Object& k, const MechParams& p, bool enc) { return std::make_unique<GcmOp>(k, p, enc, true); }

}  // namespace

void RegisterAesGcm(std::vector<MechanismInfo>& r) {
  const CK_FLAGS f = CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP;
  r.push_back({.type = CKM_AES_GCM, .name = "CKM_AES_GCM", .flags = f, .min_key = kAesMinKey, .max_key = kAesMaxKey,
               .key_types = KeyTypeBit(CKK_AES), .params = ParamKind::kGcm, .multipart = true, .cipher = Gcm});
  r.push_back({.type = CKM_CLOUDHSM_AES_GCM, .name = "CKM_CLOUDHSM_AES_GCM", .flags = f, .min_key = kAesMinKey,
               .max_key = kAesMaxKey, .key_types = KeyTypeBit(CKK_AES), .params = ParamKind::kGcm, .multipart = true,
               .cipher = CloudHsmGcm, .family = kFamilyCloudHsm});
}

}  // namespace hsm
