// native/core/mech/rsa_pss.cc
//
// CKM_RSA_PKCS_PSS (input is a hash) and CKM_SHA{1,224,256,384,512}_RSA_PKCS_PSS (multi-part),
// PKCS#11 v3.0 §2.1.10, CK_RSA_PKCS_PSS_PARAMS: hashAlg, mgf and sLen are all checked.
#include "rsa_common.h"

namespace hsm {

namespace {

CK_MECHANISM_TYPE HashOfPss(CK_MECHANISM_TYPE t) {
  switch (t) {
    case CKM_SHA1_RSA_PKCS_PSS: return CKM_SHA_1;
    case CKM_SHA224_RSA_PKCS_PSS: return CKM_SHA224;
    case CKM_SHA256_RSA_PKCS_PSS: return CKM_SHA256;
    case CKM_SHA384_RSA_PKCS_PSS: return CKM_SHA384;
    case CKM_SHA512_RSA_PKCS_PSS: return CKM_SHA512;
    default: return CK_UNAVAILABLE_INFORMATION;
  }
}

std::unique_ptr<SignOp> PssSign(const Object& k, const MechParams& p, bool) {
  CK_MECHANISM_TYPE hash = Need(p.hash_alg, "hashAlg");
  CK_MECHANISM_TYPE fixed = HashOfPss(p.type);
  if (fixed != CK_UNAVAILABLE_INFORMATION && fixed != hash) Fail(CKR_MECHANISM_PARAM_INVALID, "hashAlg must match the mechanism's hash");
  RsaSignConfig cfg;
  cfg.padding = RSA_PKCS1_PSS_PADDING;
  cfg.pss_hash = DigestNameForHashMech(hash);
  cfg.mgf_hash = DigestNameForMgf(Need(p.mgf, "mgf"));
  CK_ULONG slen = Need(p.salt_len, "saltLength");
  std::size_t hlen = static_cast<std::size_t>(EVP_MD_get_size(ossl::Md(cfg.pss_hash)));
  std::size_t em = (static_cast<std::size_t>(EVP_PKEY_get_bits(k.pkey.get())) - 1 + 7) / 8;
  if (slen > em || slen + hlen + 2 > em) Fail(CKR_MECHANISM_PARAM_INVALID, "saltLength is too long for this key and hash");
  cfg.salt_len = static_cast<int>(slen);
  if (fixed != CK_UNAVAILABLE_INFORMATION) cfg.hash = cfg.pss_hash;
  return NewRsaSignOp(k, cfg);
}

}  // namespace

void RegisterRsaPss(std::vector<MechanismInfo>& r) {
  const unsigned rsa = KeyTypeBit(CKK_RSA);
  r.push_back({.type = CKM_RSA_PKCS_PSS, .name = "CKM_RSA_PKCS_PSS", .flags = CKF_SIGN | CKF_VERIFY, .min_key = kRsaMinBits,
               .max_key = kRsaMaxBits, .key_types = rsa, .params = ParamKind::kPss, .multipart = false, .sign = PssSign});
  const std::pair<CK_MECHANISM_TYPE, const char*> hashed[] = {
      {CKM_SHA1_RSA_PKCS_PSS, "CKM_SHA1_RSA_PKCS_PSS"}, {CKM_SHA224_RSA_PKCS_PSS, "CKM_SHA224_RSA_PKCS_PSS"},
      {CKM_SHA256_RSA_PKCS_PSS, "CKM_SHA256_RSA_PKCS_PSS"}, {CKM_SHA384_RSA_PKCS_PSS, "CKM_SHA384_RSA_PKCS_PSS"},
      {CKM_SHA512_RSA_PKCS_PSS, "CKM_SHA512_RSA_PKCS_PSS"}};
  for (const auto& [type, name] : hashed) {
    r.push_back({.type = type, .name = name, .flags = CKF_SIGN | CKF_VERIFY, .min_key = kRsaMinBits, .max_key = kRsaMaxBits,
                 .key_types = rsa, .params = ParamKind::kPss, .multipart = true, .sign = PssSign});
  }
}

}  // namespace hsm
