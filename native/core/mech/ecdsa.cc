// native/core/mech/ecdsa.cc
//
// CKM_ECDSA (input is a hash, single-part) and CKM_ECDSA_SHA{1,224,256,384,512} (multi-part),
// PKCS#11 v3.0 §2.3.7: signatures are r || s, each as wide as the curve order.
// OpenSSL speaks DER (ECDSA_SIG); the conversion lives here only.
#include <openssl/ec.h>

#include "mechanism.h"

namespace hsm {

namespace {

struct SigFree { void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); } };

const char* HashOfEcdsa(CK_MECHANISM_TYPE t) {
  switch (t) {
    case CKM_ECDSA_SHA1: return "SHA1";
    case CKM_ECDSA_SHA224: return "SHA2-224";
    case CKM_ECDSA_SHA256: return "SHA2-256";
    case CKM_ECDSA_SHA384: return "SHA2-384";
    case CKM_ECDSA_SHA512: return "SHA2-512";
    default: return nullptr;
  }
}

class EcdsaOp final : public SignOp {
 public:
  EcdsaOp(const Object& key, const char* hash) : key_(key) {
    if (hash != nullptr) {
      md_.reset(ossl::Check(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
      if (EVP_DigestInit_ex2(md_.get(), ossl::Md(hash), nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "digest init");
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
    Bytes tbs = Input();
    ossl::PkeyCtx ctx = ossl::NewPkeyCtx(key_.pkey.get());
    if (EVP_PKEY_sign_init(ctx.get()) != 1) ossl::Raise(CKR_GENERAL_ERROR, "ECDSA init");
    Bytes der(static_cast<std::size_t>(EVP_PKEY_get_size(key_.pkey.get())));
    std::size_t len = der.size();
    if (EVP_PKEY_sign(ctx.get(), der.data(), &len, tbs.data(), tbs.size()) != 1) ossl::Raise(CKR_GENERAL_ERROR, "ECDSA sign");
    const unsigned char* p = der.data();
    std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
    if (!sig) ossl::Raise(CKR_GENERAL_ERROR, "ECDSA signature decode");
    std::size_t w = key_.curve->order_bytes;
    Bytes out(2 * w);
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), static_cast<int>(w)) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + w, static_cast<int>(w)) < 0) {
      ossl::Raise(CKR_GENERAL_ERROR, "ECDSA signature encode");
    }
    return out;
  }

  void Verify(ByteView sig) override {
    std::size_t w = key_.curve->order_bytes;
    if (sig.size != 2 * w) Fail(CKR_SIGNATURE_LEN_RANGE, "an ECDSA signature is r || s, twice the order length");
    Bytes tbs = Input();
    std::unique_ptr<ECDSA_SIG, SigFree> s(ossl::Check(ECDSA_SIG_new(), "ECDSA_SIG_new"));
    BIGNUM* r = BN_bin2bn(sig.data, static_cast<int>(w), nullptr);
    BIGNUM* ss = BN_bin2bn(sig.data + w, static_cast<int>(w), nullptr);
    if (r == nullptr || ss == nullptr || ECDSA_SIG_set0(s.get(), r, ss) != 1) {
      BN_free(r);
      BN_free(ss);
      ossl::Raise(CKR_HOST_MEMORY, "ECDSA_SIG_set0");
    }
    unsigned char* der = nullptr;
    int der_len = i2d_ECDSA_SIG(s.get(), &der);
    if (der_len <= 0) ossl::Raise(CKR_GENERAL_ERROR, "i2d_ECDSA_SIG");
    ossl::PkeyCtx ctx = ossl::NewPkeyCtx(key_.pkey.get());
    int ok = EVP_PKEY_verify_init(ctx.get()) == 1 &&
             EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(der_len), tbs.data(), tbs.size()) == 1;
    OPENSSL_free(der);
    ossl::ClearErrors();
    if (!ok) Fail(CKR_SIGNATURE_INVALID, "signature does not verify");
  }

 private:
  Bytes Input() {
    if (!md_) {
      if (raw_.empty()) Fail(CKR_DATA_LEN_RANGE, "CKM_ECDSA needs a hash to sign");
      return raw_;
    }
    Bytes d(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(md_.get(), d.data(), &len) != 1) ossl::Raise(CKR_GENERAL_ERROR, "digest final");
    d.resize(len);
    return d;
  }

  const Object& key_;
  ossl::MdCtx md_;
  Bytes raw_;
};

std::unique_ptr<SignOp> Ecdsa(const Object& k, const MechParams& p, bool) { return std::make_unique<EcdsaOp>(k, HashOfEcdsa(p.type)); }

}  // namespace

void RegisterEcdsa(std::vector<MechanismInfo>& r) {
  const unsigned ec = KeyTypeBit(CKK_EC);
  r.push_back({.type = CKM_ECDSA, .name = "CKM_ECDSA", .flags = CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS,
               .min_key = 224, .max_key = 521, .key_types = ec, .params = ParamKind::kNone, .multipart = false, .sign = Ecdsa});
  const std::pair<CK_MECHANISM_TYPE, const char*> hashed[] = {
      {CKM_ECDSA_SHA1, "CKM_ECDSA_SHA1"}, {CKM_ECDSA_SHA224, "CKM_ECDSA_SHA224"}, {CKM_ECDSA_SHA256, "CKM_ECDSA_SHA256"},
      {CKM_ECDSA_SHA384, "CKM_ECDSA_SHA384"}, {CKM_ECDSA_SHA512, "CKM_ECDSA_SHA512"}};
  for (const auto& [type, name] : hashed) {
    r.push_back({.type = type, .name = name, .flags = CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS,
                 .min_key = 224, .max_key = 521, .key_types = ec, .params = ParamKind::kNone, .multipart = true, .sign = Ecdsa});
  }
}

}  // namespace hsm
