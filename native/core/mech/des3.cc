// native/core/mech/des3.cc
//
// Triple DES (PKCS#11 v3.0 §2.23): CKM_DES3_KEY_GEN (24-byte keys with odd parity),
// CKM_DES3_ECB, CKM_DES3_CBC and CKM_DES3_CBC_PAD over OpenSSL's DES-EDE3. In the pkcs11 profile and
// CloudHSM's non-FIPS hsm2m.medium; refused in FIPS mode, as CloudHSM does. No N-API here.
#include "../keys.h"
#include "../profile.h"
#include "block_cipher.h"
#include "mechanism.h"

namespace hsm {

namespace {

constexpr CK_ULONG kDes3Key = 24;

// Each byte's low bit makes its bit count odd (DES key parity).
SecureBytes Des3Secret(const Attributes& t, CK_KEY_TYPE) {
  if (t.Has(CKA_VALUE_LEN) && t.Ulong(CKA_VALUE_LEN).value_or(0) != kDes3Key) Fail(CKR_TEMPLATE_INCONSISTENT, "a DES3 key is 24 bytes");
  SecureBytes v(kDes3Key);
  ossl::RandomInto(v.data(), v.size());
  for (std::size_t i = 0; i < v.size(); i++) {
    uint8_t b = v.data()[i] & 0xfe;
    v.data()[i] = static_cast<uint8_t>(b | (__builtin_popcount(b) % 2 == 0 ? 1 : 0));
  }
  return v;
}

const Bytes& NeedIv8(const MechParams& p) {
  const Bytes& iv = Need(p.iv, "iv");
  if (iv.size() != 8) Fail(CKR_MECHANISM_PARAM_INVALID, "the DES3 IV must be 8 bytes");
  return iv;
}

std::unique_ptr<CipherOp> Ecb(const Object& k, const MechParams& p, bool enc) {
  if (p.iv) Fail(CKR_MECHANISM_PARAM_INVALID, "CKM_DES3_ECB takes no parameter");
  return NewBlockCipher("DES-EDE3-ECB", 8, k.secret.view(), nullptr, enc, false, 0);
}
std::unique_ptr<CipherOp> Cbc(const Object& k, const MechParams& p, bool enc) {
  return NewBlockCipher("DES-EDE3-CBC", 8, k.secret.view(), &NeedIv8(p), enc, false, 0);
}
std::unique_ptr<CipherOp> CbcPad(const Object& k, const MechParams& p, bool enc) {
  return NewBlockCipher("DES-EDE3-CBC", 8, k.secret.view(), &NeedIv8(p), enc, true, 0);
}

}  // namespace

void RegisterDes3(std::vector<MechanismInfo>& r) {
  const unsigned des3 = KeyTypeBit(CKK_DES3);
  const CK_FLAGS ed = CKF_ENCRYPT | CKF_DECRYPT;
  r.push_back({.type = CKM_DES3_KEY_GEN, .name = "CKM_DES3_KEY_GEN", .flags = CKF_GENERATE, .min_key = kDes3Key, .max_key = kDes3Key,
               .params = ParamKind::kNone, .gen_secret = Des3Secret, .gen_key_type = CKK_DES3, .family = kFamilyDes3});
  // ECB and CBC wrap as the standard's table has them, in the pkcs11 profile only (CloudHSM's
  // library wraps with neither): keys whose length is a whole number of 8-byte blocks.
  const CK_FLAGS wraps = ed | CKF_WRAP | CKF_UNWRAP;
  r.push_back({.type = CKM_DES3_ECB, .name = "CKM_DES3_ECB", .flags = wraps, .min_key = kDes3Key, .max_key = kDes3Key, .key_types = des3,
               .params = ParamKind::kNone, .multipart = true, .cipher = Ecb, .family = kFamilyDes3, .wrap_family = kFamilyStandardAesWrap});
  r.push_back({.type = CKM_DES3_CBC, .name = "CKM_DES3_CBC", .flags = wraps, .min_key = kDes3Key, .max_key = kDes3Key, .key_types = des3,
               .params = ParamKind::kIv8, .multipart = true, .cipher = Cbc, .family = kFamilyDes3, .wrap_family = kFamilyStandardAesWrap});
  r.push_back({.type = CKM_DES3_CBC_PAD, .name = "CKM_DES3_CBC_PAD", .flags = ed | CKF_WRAP | CKF_UNWRAP, .min_key = kDes3Key,
               .max_key = kDes3Key, .key_types = des3, .params = ParamKind::kIv8, .multipart = true, .cipher = CbcPad, .family = kFamilyDes3});
}

}  // namespace hsm
