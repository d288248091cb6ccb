// native/core/mech/cloudhsm_wrap.cc
//
// CloudHSM's vendor AES key wraps (spec/cloudhsm.md §1.4, §1.6), each RFC 3394 over a padded input:
// CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD (input a multiple of 8), _PKCS5_PAD (PKCS#5 padding to a multiple
// of 8, removed and checked on unwrap) and _ZERO_PAD (zero bytes up to a multiple of 8; on unwrap the
// key length comes from CKA_VALUE_LEN). Wrap/unwrap and encrypt/decrypt, single-part.
#include "../profile.h"
#include "aes_common.h"

namespace hsm {

namespace {

enum class Pad { kNone, kPkcs5, kZero };

class VendorWrapOp final : public CipherOp {
 public:
  VendorWrapOp(const Object& key, Pad pad, bool encrypt, std::size_t value_len)
      : key_(key.secret.view()), pad_(pad), encrypt_(encrypt), value_len_(value_len) {}
  Bytes Update(ByteView in) override {
    Append(in_, in);
    return {};
  }
  Bytes Final() override {
    if (encrypt_) {
      Bytes data = in_;
      if (pad_ == Pad::kPkcs5) data.insert(data.end(), 8 - data.size() % 8, static_cast<uint8_t>(8 - data.size() % 8));
      if (pad_ == Pad::kZero) data.insert(data.end(), (8 - data.size() % 8) % 8, 0);
      if (data.size() < 16 || data.size() % 8 != 0) Fail(CKR_DATA_LEN_RANGE, "the wrap input must be at least 16 bytes and a multiple of 8");
      return AesKeyWrap(key_, data, false);
    }
    if (in_.size() < 24 || in_.size() % 8 != 0) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "wrapped data must be a multiple of 8 bytes, at least 24");
    Bytes out = AesKeyUnwrap(key_, in_, false);
    if (pad_ == Pad::kPkcs5) {
      uint8_t n = out.back();
      bool ok = n >= 1 && n <= 8 && n <= out.size();
      for (std::size_t i = 0; ok && i < n; ++i) ok = out[out.size() - 1 - i] == n;
      if (!ok) Fail(CKR_ENCRYPTED_DATA_INVALID, "bad padding");
      out.resize(out.size() - n);
    }
    if (pad_ == Pad::kZero && value_len_ != 0) {
      if (value_len_ > out.size()) Fail(CKR_ENCRYPTED_DATA_INVALID, "unwrapped data is shorter than CKA_VALUE_LEN");
      out.resize(value_len_);
    }
    return out;
  }

 private:
  ByteView key_;
  Pad pad_;
  bool encrypt_;
  std::size_t value_len_;
  Bytes in_;
};

template <Pad P>
std::unique_ptr<CipherOp> Make(const Object& k, const MechParams& p, bool enc) {
  if (p.iv) Fail(CKR_MECHANISM_PARAM_INVALID, "the CloudHSM AES key wraps take no IV");
  return std::make_unique<VendorWrapOp>(k, P, enc, p.value_len);
}

}  // namespace

void RegisterCloudHsmWrap(std::vector<MechanismInfo>& r) {
  const CK_FLAGS f = CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP;
  const unsigned aes = KeyTypeBit(CKK_AES);
  r.push_back({.type = CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD, .name = "CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD", .flags = f, .min_key = kAesMinKey,
               .max_key = kAesMaxKey, .key_types = aes, .params = ParamKind::kNone, .multipart = false, .cipher = Make<Pad::kNone>,
               .family = kFamilyCloudHsm});
  r.push_back({.type = CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD, .name = "CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD", .flags = f,
               .min_key = kAesMinKey, .max_key = kAesMaxKey, .key_types = aes, .params = ParamKind::kNone, .multipart = false,
               .cipher = Make<Pad::kPkcs5>, .family = kFamilyCloudHsm});
  r.push_back({.type = CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD, .name = "CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD", .flags = f,
               .min_key = kAesMinKey, .max_key = kAesMaxKey, .key_types = aes, .params = ParamKind::kNone, .multipart = false,
               .cipher = Make<Pad::kZero>, .family = kFamilyCloudHsm});
}

}  // namespace hsm
