// native/core/mech/aes_mac.cc
// CKM_AES_CMAC and CKM_AES_CMAC_GENERAL (PKCS#11 v3.0 §2.14.x; NIST SP 800-38B), multi-part.
#include "../profile.h"
#include "aes_common.h"
#include "mac_common.h"

namespace hsm {

namespace {

std::unique_ptr<SignOp> Cmac(const Object& k, const MechParams& p, bool) {
  return NewMacOp("CMAC", "cipher", AesName(k.secret.size(), "CBC"), k.secret.view(), MacLength(p, false, 16));
}
std::unique_ptr<SignOp> CmacGeneral(const Object& k, const MechParams& p, bool) {
  return NewMacOp("CMAC", "cipher", AesName(k.secret.size(), "CBC"), k.secret.view(), MacLength(p, true, 16));
}

}  // namespace

void RegisterAesMac(std::vector<MechanismInfo>& r) {
  const unsigned aes = KeyTypeBit(CKK_AES);
  r.push_back({.type = CKM_AES_CMAC, .name = "CKM_AES_CMAC", .flags = CKF_SIGN | CKF_VERIFY, .min_key = kAesMinKey,
               .max_key = kAesMaxKey, .key_types = aes, .params = ParamKind::kNone, .multipart = true, .sign = Cmac});
  r.push_back({.type = CKM_AES_CMAC_GENERAL, .name = "CKM_AES_CMAC_GENERAL", .flags = CKF_SIGN | CKF_VERIFY,
               .min_key = kAesMinKey, .max_key = kAesMaxKey, .key_types = aes, .params = ParamKind::kMacLength,
               .multipart = true, .sign = CmacGeneral, .family = kFamilyBeyondCloudHsm});
}

}  // namespace hsm
