// native/core/mech/rsa_aes_wrap.cc
//
// CKM_RSA_AES_KEY_WRAP (PKCS#11 v3.0 §2.1.21, CK_RSA_AES_KEY_WRAP_PARAMS): a fresh AES key of
// ulAESKeyBits wraps the target with RFC 5649 (KWP); RSA-OAEP wraps that AES key; the output is
// OAEP(aes) || KWP(target). Wrap/unwrap only.
#include "aes_common.h"
#include "rsa_common.h"

namespace hsm {

namespace {

class RsaAesWrapOp final : public CipherOp {
 public:
  RsaAesWrapOp(const Object& key, const MechParams& p, bool wrap) : key_(key), p_(p), wrap_(wrap) {
    CK_ULONG bits = Need(p.aes_key_bits, "aesKeyBits");
    if (bits != 128 && bits != 192 && bits != 256) Fail(CKR_MECHANISM_PARAM_INVALID, "aesKeyBits must be 128, 192 or 256");
    (void)DigestNameForHashMech(Need(p.hash_alg, "oaep.hashAlg"));
    (void)DigestNameForMgf(Need(p.mgf, "oaep.mgf"));
  }
  Bytes Update(ByteView in) override {
    Append(in_, in);
    return {};
  }
  Bytes Final() override {
    std::size_t k = RsaBytes(key_);
    std::size_t hlen = static_cast<std::size_t>(EVP_MD_get_size(ossl::Md(DigestNameForHashMech(*p_.hash_alg))));
    if (wrap_) {
      SecureBytes aes(*p_.aes_key_bits / 8);
      ossl::RandomInto(aes.data(), aes.size());
      RsaCipherOp oaep(key_, true, RSA_PKCS1_OAEP_PADDING, &p_, k - 2 * hlen - 2);
      Bytes out = oaep.Once(aes.view());
      Append(out, AesKeyWrap(aes.view(), in_, true));
      return out;
    }
    if (in_.size() <= k) Fail(CKR_ENCRYPTED_DATA_LEN_RANGE, "wrapped data is shorter than the RSA part");
    RsaCipherOp oaep(key_, false, RSA_PKCS1_OAEP_PADDING, &p_, 0);
    Bytes aes_bytes = oaep.Once(ByteView(in_.data(), k));
    if (aes_bytes.size() * 8 != *p_.aes_key_bits) Fail(CKR_ENCRYPTED_DATA_INVALID, "wrapped AES key has the wrong size");
    SecureBytes aes(ByteView{aes_bytes});
    return AesKeyUnwrap(aes.view(), ByteView(in_.data() + k, in_.size() - k), true);
  }

 private:
  const Object& key_;
  MechParams p_;
  bool wrap_;
  Bytes in_;
};

std::unique_ptr<CipherOp> RsaAesWrap(const Object& k, const MechParams& p, bool enc) { return std::make_unique<RsaAesWrapOp>(k, p, enc); }

}  // namespace

void RegisterRsaAesWrap(std::vector<MechanismInfo>& r) {
  r.push_back({.type = CKM_RSA_AES_KEY_WRAP, .name = "CKM_RSA_AES_KEY_WRAP", .flags = CKF_WRAP | CKF_UNWRAP,
               .min_key = kRsaMinBits, .max_key = kRsaMaxBits, .key_types = KeyTypeBit(CKK_RSA),
               .params = ParamKind::kRsaAesWrap, .multipart = false, .cipher = RsaAesWrap});
}

}  // namespace hsm
