// native/core/mech/rsa_oaep.cc
// CKM_RSA_PKCS_OAEP (PKCS#11 v3.0 §2.1.8, CK_RSA_PKCS_OAEP_PARAMS): single-part encrypt/decrypt and
// wrap/unwrap; hash SHA-1..SHA-512, MGF1 with any of those, optional label (CKZ_DATA_SPECIFIED).
#include "rsa_common.h"

namespace hsm {

namespace {

std::unique_ptr<CipherOp> Oaep(const Object& k, const MechParams& p, bool enc) {
  std::size_t hlen = static_cast<std::size_t>(EVP_MD_get_size(ossl::Md(DigestNameForHashMech(Need(p.hash_alg, "hashAlg")))));
  (void)DigestNameForMgf(Need(p.mgf, "mgf"));
  std::size_t k_bytes = RsaBytes(k);
  if (k_bytes < 2 * hlen + 2) Fail(CKR_KEY_SIZE_RANGE, "RSA key too small for OAEP with this hash");
  return std::make_unique<RsaCipherOp>(k, enc, RSA_PKCS1_OAEP_PADDING, &p, k_bytes - 2 * hlen - 2);
}

}  // namespace

void RegisterRsaOaep(std::vector<MechanismInfo>& r) {
  r.push_back({.type = CKM_RSA_PKCS_OAEP, .name = "CKM_RSA_PKCS_OAEP",
               .flags = CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP, .min_key = kRsaMinBits, .max_key = kRsaMaxBits,
               .key_types = KeyTypeBit(CKK_RSA), .params = ParamKind::kOaep, .multipart = false, .cipher = Oaep});
}

}  // namespace hsm
