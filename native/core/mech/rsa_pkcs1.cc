// native/core/mech/rsa_pkcs1.cc
//
// CKM_RSA_PKCS (sign/verify/encrypt/decrypt/wrap/unwrap), CKM_SHA{1,224,256,384,512}_RSA_PKCS
// (hash-and-sign, multi-part) and CKM_RSA_X_509 (raw RSA) — PKCS#11 v3.0 §2.1.6–2.1.8, §2.1.13.
#include "rsa_common.h"

namespace hsm {

namespace {

const char* HashOfRsaPkcs(CK_MECHANISM_TYPE t) {
  switch (t) {
    case CKM_SHA1_RSA_PKCS: return "SHA1";
    case CKM_SHA224_RSA_PKCS: return "SHA2-224";
    case CKM_SHA256_RSA_PKCS: return "SHA2-256";
    case CKM_SHA384_RSA_PKCS: return "SHA2-384";
    case CKM_SHA512_RSA_PKCS: return "SHA2-512";
    default: return nullptr;
  }
}

std::unique_ptr<SignOp> Pkcs1Sign(const Object& k, const MechParams& p, bool) {
  RsaSignConfig cfg;
  cfg.hash = HashOfRsaPkcs(p.type);
  return NewRsaSignOp(k, cfg);
}

std::unique_ptr<SignOp> X509Sign(const Object& k, const MechParams&, bool) {
  RsaSignConfig cfg;
  cfg.padding = RSA_NO_PADDING;
  return NewRsaSignOp(k, cfg);
}

std::unique_ptr<CipherOp> Pkcs1Cipher(const Object& k, const MechParams&, bool enc) {
  return std::make_unique<RsaCipherOp>(k, enc, RSA_PKCS1_PADDING, nullptr, RsaBytes(k) - 11);
}

std::unique_ptr<CipherOp> X509Cipher(const Object& k, const MechParams&, bool enc) {
  return std::make_unique<RsaCipherOp>(k, enc, RSA_NO_PADDING, nullptr, RsaBytes(k));
}

}  // namespace

void RegisterRsaPkcs(std::vector<MechanismInfo>& r) {
  const unsigned rsa = KeyTypeBit(CKK_RSA);
  r.push_back({.type = CKM_RSA_PKCS, .name = "CKM_RSA_PKCS",
               .flags = CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP,
               .min_key = kRsaMinBits, .max_key = kRsaMaxBits, .key_types = rsa, .params = ParamKind::kNone,
               .multipart = false, .cipher = Pkcs1Cipher, .sign = Pkcs1Sign});
  r.push_back({.type = CKM_RSA_X_509, .name = "CKM_RSA_X_509", .flags = CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT,
               .min_key = kRsaMinBits, .max_key = kRsaMaxBits, .key_types = rsa, .params = ParamKind::kNone,
               .multipart = false, .cipher = X509Cipher, .sign = X509Sign});
  const std::pair<CK_MECHANISM_TYPE, const char*> hashed[] = {
      {CKM_SHA1_RSA_PKCS, "CKM_SHA1_RSA_PKCS"}, {CKM_SHA224_RSA_PKCS, "CKM_SHA224_RSA_PKCS"},
      {CKM_SHA256_RSA_PKCS, "CKM_SHA256_RSA_PKCS"}, {CKM_SHA384_RSA_PKCS, "CKM_SHA384_RSA_PKCS"},
      {CKM_SHA512_RSA_PKCS, "CKM_SHA512_RSA_PKCS"}};
  for (const auto& [type, name] : hashed) {
    r.push_back({.type = type, .name = name, .flags = CKF_SIGN | CKF_VERIFY, .min_key = kRsaMinBits, .max_key = kRsaMaxBits,
                 .key_types = rsa, .params = ParamKind::kNone, .multipart = true, .sign = Pkcs1Sign});
  }
}

}  // namespace hsm
