// native/core/mech/hmac.cc
// CKM_SHA*_HMAC and CKM_SHA*_HMAC_GENERAL (PKCS#11 v3.0 §2.20; RFC 2104), multi-part, keyed by a
// generic secret.
#include "../profile.h"
#include "mac_common.h"

namespace hsm {

namespace {

struct HmacDef {
  CK_MECHANISM_TYPE plain, general;
  const char* plain_name;
  const char* general_name;
  const char* digest;
  std::size_t size;
};

const HmacDef kHmacs[] = {
    {CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, "CKM_SHA_1_HMAC", "CKM_SHA_1_HMAC_GENERAL", "SHA1", 20},
    {CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, "CKM_SHA224_HMAC", "CKM_SHA224_HMAC_GENERAL", "SHA2-224", 28},
    {CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, "CKM_SHA256_HMAC", "CKM_SHA256_HMAC_GENERAL", "SHA2-256", 32},
    {CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, "CKM_SHA384_HMAC", "CKM_SHA384_HMAC_GENERAL", "SHA2-384", 48},
    {CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, "CKM_SHA512_HMAC", "CKM_SHA512_HMAC_GENERAL", "SHA2-512", 64},
};

const HmacDef& DefFor(CK_MECHANISM_TYPE t) {
  for (const auto& d : kHmacs) {
    if (d.plain == t || d.general == t) return d;
  }
  Fail(CKR_MECHANISM_INVALID, "not an HMAC mechanism");
}

std::unique_ptr<SignOp> Hmac(const Object& k, const MechParams& p, bool) {
  const HmacDef& d = DefFor(p.type);
  return NewMacOp("HMAC", "digest", d.digest, k.secret.view(), MacLength(p, p.type == d.general, d.size));
}

}  // namespace

void RegisterHmac(std::vector<MechanismInfo>& r) {
  const unsigned generic = KeyTypeBit(CKK_GENERIC_SECRET);
  for (const auto& d : kHmacs) {
    r.push_back({.type = d.plain, .name = d.plain_name, .flags = CKF_SIGN | CKF_VERIFY, .min_key = 1, .max_key = 800,
                 .key_types = generic, .params = ParamKind::kNone, .multipart = true, .sign = Hmac});
    r.push_back({.type = d.general, .name = d.general_name, .flags = CKF_SIGN | CKF_VERIFY, .min_key = 1, .max_key = 800,
                 .key_types = generic, .params = ParamKind::kMacLength, .multipart = true, .sign = Hmac,
                 .family = kFamilyBeyondCloudHsm});
  }
}

}  // namespace hsm
