// native/core/mech/aes_kw.cc
//
// CKM_AES_KEY_WRAP (RFC 3394) and CKM_AES_KEY_WRAP_PAD / CKM_AES_KEY_WRAP_KWP (RFC 5649), usable for
// encrypt/decrypt and wrap/unwrap. Single-part: the whole input is needed to compute the wrap.
#include <openssl/evp.h>

#include <tuple>

#include "../profile.h"
#include "aes_common.h"

namespace hsm {

namespace {

Bytes RunWrap(ByteView key, ByteView in, bool pad, bool encrypt) {
  ossl::CipherCtx ctx(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new"));
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  const EVP_CIPHER* c = ossl::Cipher(AesName(key.size, pad ? "WRAP-PAD" : "WRAP"));
  if (EVP_CipherInit_ex2(ctx.get(), c, key.data, nullptr, encrypt ? 1 : 0, nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "key wrap init");
  // A key wrap takes its input in one call (it cannot be split); keys are far below this bound.
  if (in.size > (std::size_t{1} << 30)) Fail(encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, "key wrap input over 1 GiB");
  Bytes out(in.size + 16);
  int len = 0, tail = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data, static_cast<int>(in.size)) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + len, &tail) != 1) {
    ossl::ClearErrors();
    WipeMemory(out.data(), out.size());
    Fail(CKR_ENCRYPTED_DATA_INVALID, "key unwrap integrity check failed");
  }
  out.resize(static_cast<std::size_t>(len + tail));
  return out;
}

class KeyWrapOp final : public CipherOp {
 public:
  KeyWrapOp(const Object& key, bool pad, bool encrypt) : key_(key.secret.view()), pad_(pad), encrypt_(encrypt) {}
  Bytes Update(ByteView in) override {
    Append(in_, in);
    return {};
  }
  Bytes Final() override {
    std::size_t n = in_.size();
    if (encrypt_) {
      if (pad_ ? n == 0 : (n < 16 || n % 8 != 0)) Fail(CKR_DATA_LEN_RANGE, pad_ ? "nothing to wrap" : "RFC 3394 input must be a multiple of 8 bytes, at least 16");
      if (n > (1u << 30)) Fail(CKR_DATA_LEN_RANGE, "input too large to wrap");
    } else if (n % 8 != 0 || n < (pad_ ? 16u : 24u)) {
      Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "wrapped data must be a multiple of 8 bytes and long enough");
    }
    return RunWrap(key_, in_, pad_, encrypt_);
  }

 private:
  ByteView key_;  // valid while the op holds the key object (see Session)
  bool pad_, encrypt_;
  Bytes in_;
};

std::unique_ptr<CipherOp> Kw(const Object& k, const MechParams& p, bool enc) {
  if (p.iv) Fail(CKR_MECHANISM_PARAM_INVALID, "a custom key-wrap IV is not accepted; the RFC default is used");
  return std::make_unique<KeyWrapOp>(k, false, enc);
}
std::unique_ptr<CipherOp> Kwp(const Object& k, const MechParams& p, bool enc) {
  if (p.iv) Fail(CKR_MECHANISM_PARAM_INVALID, "a custom key-wrap IV is not accepted; the RFC default is used");
  return std::make_unique<KeyWrapOp>(k, true, enc);
}

}  // namespace

Bytes AesKeyWrap(ByteView key, ByteView data, bool pad) { return RunWrap(key, data, pad, true); }
Bytes AesKeyUnwrap(ByteView key, ByteView data, bool pad) {
  if (data.size % 8 != 0 || data.size < 16) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "wrapped data length");
  return RunWrap(key, data, pad, false);
}

void RegisterAesKeyWrap(std::vector<MechanismInfo>& r) {
  const unsigned aes = KeyTypeBit(CKK_AES);
  const CK_FLAGS f = CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP;
  // Not in CloudHSM SDK 5 (its vendor variants are in cloudhsm_wrap.cc): a family profiles switch on.
  const std::tuple<CK_MECHANISM_TYPE, const char*, CipherFactory> list[] = {
      {CKM_AES_KEY_WRAP, "CKM_AES_KEY_WRAP", Kw}, {CKM_AES_KEY_WRAP_PAD, "CKM_AES_KEY_WRAP_PAD", Kwp},
      {CKM_AES_KEY_WRAP_KWP, "CKM_AES_KEY_WRAP_KWP", Kwp}};
  for (const auto& [type, name, fn] : list) {
    r.push_back({.type = type, .name = name, .flags = f, .min_key = kAesMinKey, .max_key = kAesMaxKey, .key_types = aes,
                 .params = ParamKind::kNone, .multipart = false, .cipher = fn, .family = kFamilyStandardAesWrap});
  }
}

}  // namespace hsm
