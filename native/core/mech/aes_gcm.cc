// native/core/mech/aes_gcm.cc
//
// CKM_AES_GCM (PKCS#11 v3.0 §2.14.x, CK_GCM_PARAMS): encrypt streams and appends the tag at Final;
// decrypt buffers until Final so no plaintext is released before the tag is checked.
// Tag failures are one opaque CKR_ENCRYPTED_DATA_INVALID. Where the profile says so (CloudHSM), the
// token makes a 12-byte IV for every encryption and hands it back (GeneratedIv), ignoring the
// caller's; CKM_CLOUDHSM_AES_GCM (vendor) takes no IV and puts the generated one before the
// ciphertext, and on decrypt reads it from there. IVs of 1..128 bytes go through OpenSSL's EVP GCM;
// longer ones (PKCS#11 allows them) through OpenSSL's gcm128 mode functions, its GCM for any IV
// length, over this key's AES block from EVP: no GCM arithmetic of our own.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/modes.h>

#include "../profile.h"
#include "aes_common.h"

namespace hsm {

namespace {

// One GCM computation: additional data, then data, then the tag.
class GcmEngine {
 public:
  virtual ~GcmEngine() = default;
  virtual void Aad(ByteView aad) = 0;
  virtual std::size_t Crypt(ByteView in, uint8_t* out) = 0;  // writes in.size bytes
  virtual void SetExpectedTag(ByteView tag) = 0;             // decrypt, before Finish
  virtual bool Finish() = 0;                                 // decrypt: the tag verifies
  virtual void Tag(uint8_t* out, std::size_t len) = 0;       // encrypt, after Finish
};

class EvpGcm final : public GcmEngine {
 public:
  EvpGcm(ByteView key, const Bytes& iv, bool encrypt) : ctx_(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")) {
    std::size_t ivlen = iv.size();
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen), OSSL_PARAM_construct_end()};
    if (EVP_CipherInit_ex2(ctx_.get(), ossl::Cipher(AesName(key.size, "GCM")), key.data, iv.data(), encrypt ? 1 : 0, params) != 1) {
      ossl::Raise(CKR_MECHANISM_PARAM_INVALID, "GCM init");
    }
  }
  void Aad(ByteView aad) override { (void)ossl::CipherUpdate(ctx_.get(), nullptr, aad); }
  std::size_t Crypt(ByteView in, uint8_t* out) override { return ossl::CipherUpdate(ctx_.get(), out, in); }
  void SetExpectedTag(ByteView tag) override {
    if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size), const_cast<uint8_t*>(tag.data)) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "GCM set tag");
    }
  }
  bool Finish() override {
    unsigned char tail[16];
    int len = 0;
    bool ok = EVP_CipherFinal_ex(ctx_.get(), tail, &len) == 1;
    if (!ok) ossl::ClearErrors();
    return ok;
  }
  void Tag(uint8_t* out, std::size_t len) override {
    if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(len), out) != 1) ossl::Raise(CKR_GENERAL_ERROR, "GCM get tag");
  }

 private:
  ossl::CipherCtx ctx_;
};

// IVs over 128 bytes: CRYPTO_gcm128_* (OpenSSL's GCM, any IV length) with AES-ECB from EVP as the
// block function.
class LongIvGcm final : public GcmEngine {
 public:
  LongIvGcm(ByteView key, const Bytes& iv, bool encrypt) : ecb_(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")), encrypt_(encrypt) {
    if (EVP_EncryptInit_ex2(ecb_.get(), ossl::Cipher(AesName(key.size, "ECB")), key.data, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ecb_.get(), 0) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "AES-ECB init");
    }
    gcm_ = ossl::Check(CRYPTO_gcm128_new(ecb_.get(), Block), "CRYPTO_gcm128_new");
    CRYPTO_gcm128_setiv(gcm_, iv.data(), iv.size());
  }
  ~LongIvGcm() override { CRYPTO_gcm128_release(gcm_); }  // wipes its state
  LongIvGcm(const LongIvGcm&) = delete;
  LongIvGcm& operator=(const LongIvGcm&) = delete;

  void Aad(ByteView aad) override {
    if (CRYPTO_gcm128_aad(gcm_, aad.data, aad.size) != 0) Fail(CKR_DATA_LEN_RANGE, "GCM: too much additional data");
  }
  std::size_t Crypt(ByteView in, uint8_t* out) override {
    int rc = encrypt_ ? CRYPTO_gcm128_encrypt(gcm_, in.data, out, in.size) : CRYPTO_gcm128_decrypt(gcm_, in.data, out, in.size);
    if (rc != 0) Fail(encrypt_ ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "GCM: more data than one message may hold");
    return in.size;
  }
  void SetExpectedTag(ByteView tag) override { expected_ = ToBytes(tag); }
  bool Finish() override {
    if (encrypt_) return true;
    return CRYPTO_gcm128_finish(gcm_, expected_.data(), expected_.size()) == 0;
  }
  void Tag(uint8_t* out, std::size_t len) override { CRYPTO_gcm128_tag(gcm_, out, len); }

 private:
  static void Block(const unsigned char in[16], unsigned char out[16], const void* ctx) {
    int len = 0;
    (void)EVP_EncryptUpdate(static_cast<EVP_CIPHER_CTX*>(const_cast<void*>(ctx)), out, &len, in, 16);
  }
  ossl::CipherCtx ecb_;
  GCM128_CONTEXT* gcm_ = nullptr;
  bool encrypt_;
  Bytes expected_;
};

class GcmOp final : public CipherOp {
 public:
  GcmOp(const Object& key, const MechParams& p, bool encrypt, bool prepend) : key_(key), p_(p), encrypt_(encrypt), prepend_(prepend) {
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

  // One-shot without buffering: encrypt writes the ciphertext and the tag; decrypt checks the tag
  // against the input's tail and wipes what it wrote when the tag fails. CKM_CLOUDHSM_AES_GCM
  // (its IV travels inside the data) goes through Once.
  std::size_t OnceBound(std::size_t in) const override { return prepend_ ? 0 : encrypt_ ? in + tag_len_ : in; }
  // Encryption streams straight through; decryption buffers until Final (see the top of the file).
  std::size_t UpdateBound(std::size_t in) const override { return encrypt_ && !prepend_ ? in : 0; }
  std::size_t UpdateInto(ByteView in, uint8_t* out) override {
    if (!encrypt_ || prepend_) return CipherOp::UpdateInto(in, out);
    return engine_->Crypt(in, out);
  }

  std::size_t OnceInto(ByteView in, uint8_t* out) override {
    if (prepend_) return CipherOp::OnceInto(in, out);
    if (encrypt_) {
      std::size_t n = engine_->Crypt(in, out);
      if (!engine_->Finish()) Fail(CKR_GENERAL_ERROR, "AES-GCM encryption failed");
      engine_->Tag(out + n, tag_len_);
      return n + tag_len_;
    }
    if (in.size < tag_len_) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "ciphertext is shorter than the tag");
    std::size_t body = in.size - tag_len_;
    engine_->SetExpectedTag(ByteView(in.data + body, tag_len_));
    std::size_t n = engine_->Crypt(ByteView(in.data, body), out);
    if (!engine_->Finish()) {
      WipeMemory(out, n);
      Fail(CKR_ENCRYPTED_DATA_INVALID, "authentication failed");
    }
    return n;
  }

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
      engine_->SetExpectedTag(ByteView(buffered_.data() + body, tag_len_));
      out = Run(ByteView(buffered_.data(), body));
    }
    if (!engine_->Finish()) {
      WipeMemory(out.data(), out.size());
      Fail(CKR_ENCRYPTED_DATA_INVALID, "authentication failed");
    }
    if (encrypt_) {
      unsigned char tag[16];
      engine_->Tag(tag, tag_len_);
      Append(out, ByteView(tag, tag_len_));
    }
    return out;
  }

 private:
  void Init(const Bytes& iv) {
    const MechParams& p = p_;
    const Object& key = key_;
    // PKCS#11: 1 to 2^32 - 1 bytes (ulIvLen is a CK_ULONG; OpenSSL's gcm128 takes any length).
    if (iv.empty() || iv.size() > 0xffffffffu) Fail(CKR_MECHANISM_PARAM_INVALID, "the GCM IV must be 1..2^32-1 bytes");
    CK_ULONG bits = p.tag_bits.value_or(128);
    if (bits != 32 && bits != 64 && (bits < 96 || bits > 128 || bits % 8 != 0)) {
      Fail(CKR_MECHANISM_PARAM_INVALID, "tagBits must be 32, 64, or 96..128 in steps of 8");
    }
    tag_len_ = bits / 8;
    // OpenSSL's EVP GCM keeps at most 128 IV bytes.
    if (iv.size() <= 128) {
      engine_ = std::make_unique<EvpGcm>(key.secret.view(), iv, encrypt_);
    } else {
      engine_ = std::make_unique<LongIvGcm>(key.secret.view(), iv, encrypt_);
    }
    if (p.aad && !p.aad->empty()) engine_->Aad(*p.aad);
  }

  Bytes Run(ByteView in) {
    Bytes out(in.size);
    out.resize(engine_->Crypt(in, out.data()));
    return out;
  }

  std::unique_ptr<GcmEngine> engine_;
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
