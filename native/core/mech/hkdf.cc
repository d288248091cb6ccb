// native/core/mech/hkdf.cc
//
// CKM_HKDF_DERIVE (PKCS#11 v3.0 §2.43, CK_HKDF_PARAMS; RFC 5869): extract, expand, or both, with
// HMAC over SHA-1..SHA-512. A salt from a key (CKF_HKDF_SALT_KEY) is resolved by the token into
// `salt` before this runs.
#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "../profile.h"
#include "mechanism.h"

namespace hsm {

namespace {

SecureBytes Hkdf(const Object& base, const MechParams& p, std::size_t len) {
  bool extract = p.extract.value_or(false), expand = p.expand.value_or(false);
  if (!extract && !expand) Fail(CKR_MECHANISM_PARAM_INVALID, "HKDF needs extract, expand, or both");
  std::string md = DigestNameForHashMech(Need(p.hash_alg, "prfHashMechanism"));
  std::size_t hlen = static_cast<std::size_t>(EVP_MD_get_size(ossl::Md(md)));
  CK_ULONG salt_type = p.salt_type.value_or(CKF_HKDF_SALT_NULL);
  if (extract && salt_type != CKF_HKDF_SALT_NULL && salt_type != CKF_HKDF_SALT_DATA && salt_type != CKF_HKDF_SALT_KEY) {
    Fail(CKR_MECHANISM_PARAM_INVALID, "saltType must be CKF_HKDF_SALT_NULL, _DATA or _KEY");
  }
  if (!expand) {
    if (len != 0 && len != hlen) Fail(CKR_KEY_SIZE_RANGE, "extract-only HKDF yields exactly the hash length");
    len = hlen;
  }
  if (len == 0) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_VALUE_LEN is required for HKDF expand");
  if (len > 255 * hlen) Fail(CKR_KEY_SIZE_RANGE, "HKDF output is limited to 255 hash lengths");
  int mode = extract && expand ? EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND : extract ? EVP_KDF_HKDF_MODE_EXTRACT_ONLY : EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  Bytes salt = salt_type == CKF_HKDF_SALT_NULL ? Bytes(hlen, 0) : p.salt.value_or(Bytes{});
  if (salt.empty()) salt.assign(hlen, 0);  // RFC 5869: an absent salt is HashLen zero bytes
  Bytes info = p.info.value_or(Bytes{});
  std::vector<OSSL_PARAM> params = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(base.secret.data()), base.secret.size())};
  if (extract) params.push_back(OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()));
  if (expand) params.push_back(OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()));
  params.push_back(OSSL_PARAM_construct_end());
  ossl::KdfCtx ctx(ossl::Check(EVP_KDF_CTX_new(ossl::Kdf("HKDF")), "EVP_KDF_CTX_new"));
  SecureBytes out(len);
  if (EVP_KDF_derive(ctx.get(), out.data(), len, params.data()) != 1) ossl::Raise(CKR_MECHANISM_PARAM_INVALID, "HKDF");
  return out;
}

}  // namespace

void RegisterHkdf(std::vector<MechanismInfo>& r) {
  r.push_back({.type = CKM_HKDF_DERIVE, .name = "CKM_HKDF_DERIVE", .flags = CKF_DERIVE, .min_key = 1, .max_key = 800,
               .key_types = KeyTypeBit(CKK_GENERIC_SECRET), .params = ParamKind::kHkdf, .multipart = false, .derive = Hkdf,
               .family = kFamilyBeyondCloudHsm});
}

}  // namespace hsm
