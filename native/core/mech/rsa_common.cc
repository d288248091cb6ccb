// native/core/mech/rsa_common.cc
#include "rsa_common.h"

#include <openssl/core_names.h>

#include <cstring>

namespace hsm {

namespace {

class RsaSignOp final : public SignOp {
 public:
  RsaSignOp(const Object& key, const RsaSignConfig& cfg) : key_(key), cfg_(cfg) {
    if (cfg.hash != nullptr) {
      md_.reset(ossl::Check(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
      if (EVP_DigestInit_ex2(md_.get(), ossl::Md(cfg.hash), nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "digest init");
    }
  }

  void Update(ByteView in) override {
    if (md_) {
      if (EVP_DigestUpdate(md_.get(), in.data, in.size) != 1) ossl::Raise(CKR_GENERAL_ERROR, "digest update");
    } else {
      Append(raw_, in);
    }
  }

  Bytes Sign() override {
    std::size_t k = RsaBytes(key_);
    Bytes tbs = Input(k);
    ossl::PkeyCtx ctx = Ctx(true);
    Bytes sig(k);
    std::size_t len = sig.size();
    if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, tbs.data(), tbs.size()) != 1) ossl::Raise(CKR_DATA_INVALID, "RSA sign");
    sig.resize(len);
    return sig;
  }

  void Verify(ByteView sig) override {
    std::size_t k = RsaBytes(key_);
    if (sig.size != k) Fail(CKR_SIGNATURE_LEN_RANGE, "an RSA signature is as long as the modulus");
    Bytes tbs = Input(k);
    ossl::PkeyCtx ctx = Ctx(false);
    int ok;
    if (cfg_.padding == RSA_NO_PADDING) {
      Bytes rec(k);
      std::size_t len = rec.size();
      ok = EVP_PKEY_verify_recover(ctx.get(), rec.data(), &len, sig.data, sig.size) == 1 && len == k &&
           CRYPTO_memcmp(rec.data(), tbs.data(), k) == 0;
    } else {
      ok = EVP_PKEY_verify(ctx.get(), sig.data, sig.size, tbs.data(), tbs.size()) == 1;
    }
    ossl::ClearErrors();
    if (!ok) Fail(CKR_SIGNATURE_INVALID, "signature does not verify");
  }

 private:
  // The bytes handed to the RSA primitive: the digest, or the raw input checked for size.
  Bytes Input(std::size_t k) {
    if (md_) {
      Bytes d(EVP_MAX_MD_SIZE);
      unsigned int len = 0;
      if (EVP_DigestFinal_ex(md_.get(), d.data(), &len) != 1) ossl::Raise(CKR_GENERAL_ERROR, "digest final");
      d.resize(len);
      return d;
    }
    if (cfg_.padding == RSA_PKCS1_PADDING && raw_.size() > k - 11) Fail(CKR_DATA_LEN_RANGE, "CKM_RSA_PKCS input is longer than k-11 bytes");
    if (cfg_.padding == RSA_PKCS1_PSS_PADDING &&
        raw_.size() != static_cast<std::size_t>(EVP_MD_get_size(ossl::Md(cfg_.pss_hash)))) {
      Fail(CKR_DATA_LEN_RANGE, "CKM_RSA_PKCS_PSS input must be a hash of the parameters' hashAlg");
    }
    if (cfg_.padding == RSA_NO_PADDING) {
      if (raw_.size() > k) Fail(CKR_DATA_LEN_RANGE, "CKM_RSA_X_509 input is longer than the modulus");
      Bytes padded(k - raw_.size(), 0);
      Append(padded, raw_);
      return padded;
    }
    return raw_;
  }

  ossl::PkeyCtx Ctx(bool sign) {
    ossl::PkeyCtx ctx = ossl::NewPkeyCtx(key_.pkey.get());
    if ((sign ? EVP_PKEY_sign_init(ctx.get()) : (cfg_.padding == RSA_NO_PADDING ? EVP_PKEY_verify_recover_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get()))) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), cfg_.padding) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "RSA init");
    }
    const char* md = cfg_.hash != nullptr ? cfg_.hash : cfg_.pss_hash;
    if (md != nullptr && EVP_PKEY_CTX_set_signature_md(ctx.get(), ossl::Md(md)) != 1) ossl::Raise(CKR_GENERAL_ERROR, "RSA md");
    if (cfg_.padding == RSA_PKCS1_PSS_PADDING) {
      if (EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), ossl::Md(cfg_.mgf_hash)) != 1 ||
          EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), cfg_.salt_len) != 1) {
        ossl::Raise(CKR_MECHANISM_PARAM_INVALID, "PSS parameters");
      }
    }
    return ctx;
  }

  const Object& key_;
  RsaSignConfig cfg_;
  ossl::MdCtx md_;
  Bytes raw_;
};

}  // namespace

std::unique_ptr<SignOp> NewRsaSignOp(const Object& key, const RsaSignConfig& cfg) {
  return std::make_unique<RsaSignOp>(key, cfg);
}

std::size_t RsaBytes(const Object& key) { return static_cast<std::size_t>(EVP_PKEY_get_size(key.pkey.get())); }

void ApplyOaep(EVP_PKEY_CTX* ctx, const MechParams& p) {
  const char* hash = DigestNameForHashMech(Need(p.hash_alg, "hashAlg"));
  const char* mgf = DigestNameForMgf(Need(p.mgf, "mgf"));
  if (p.salt_len) Fail(CKR_MECHANISM_PARAM_INVALID, "OAEP takes no salt length");
  if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 || EVP_PKEY_CTX_set_rsa_oaep_md(ctx, ossl::Md(hash)) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, ossl::Md(mgf)) != 1) {
    ossl::Raise(CKR_MECHANISM_PARAM_INVALID, "OAEP parameters");
  }
  if (p.source_data && !p.source_data->empty()) {
    Bytes label = *p.source_data;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, label.data(), label.size()),
                           OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_set_params(ctx, params) != 1) ossl::Raise(CKR_MECHANISM_PARAM_INVALID, "OAEP label");
  }
}

RsaCipherOp::RsaCipherOp(const Object& key, bool encrypt, int padding, const MechParams* oaep, std::size_t max_in)
    : key_(key), encrypt_(encrypt), padding_(padding), oaep_(nullptr), max_in_(max_in) {
  if (oaep != nullptr) {
    oaep_copy_ = *oaep;
    oaep_ = &oaep_copy_;
  }
}

Bytes RsaCipherOp::Update(ByteView in) {
  Append(in_, in);
  return {};
}

Bytes RsaCipherOp::Final() {
  std::size_t k = RsaBytes(key_);
  ossl::PkeyCtx ctx = ossl::NewPkeyCtx(key_.pkey.get());
  if ((encrypt_ ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) != 1) ossl::Raise(CKR_GENERAL_ERROR, "RSA init");
  if (oaep_ != nullptr) {
    ApplyOaep(ctx.get(), *oaep_);
  } else if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding_) != 1) {
    ossl::Raise(CKR_GENERAL_ERROR, "RSA padding");
  }
  Bytes input = in_;
  if (encrypt_) {
    if (input.size() > max_in_) Fail(CKR_DATA_LEN_RANGE, "input is too long for this RSA key and padding");
    if (padding_ == RSA_NO_PADDING) {
      Bytes padded(k - input.size(), 0);
      Append(padded, input);
      input = std::move(padded);
    }
  } else if (input.size() != k) {
    Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "RSA ciphertext must be as long as the modulus");
  }
  Bytes out(k);
  std::size_t len = out.size();
  int rc = encrypt_ ? EVP_PKEY_encrypt(ctx.get(), out.data(), &len, input.data(), input.size())
                    : EVP_PKEY_decrypt(ctx.get(), out.data(), &len, input.data(), input.size());
  if (rc != 1) {
    ossl::ClearErrors();
    WipeMemory(out.data(), out.size());
    Fail(encrypt_ ? CKR_DATA_INVALID : CKR_ENCRYPTED_DATA_INVALID, encrypt_ ? "RSA encryption failed" : "decryption failed");
  }
  out.resize(len);
  return out;
}

}  // namespace hsm
