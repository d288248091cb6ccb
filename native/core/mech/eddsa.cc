// native/core/mech/eddsa.cc
// CKM_EDDSA for Ed25519 (PKCS#11 v3.0 §2.3.14), pure EdDSA without context: the message is needed
// whole, so Update buffers and the signature is computed once.
#include "../profile.h"
#include "ed25519_sodium.h"
#include "mechanism.h"

namespace hsm {

namespace {

class EddsaOp final : public SignOp {
 public:
  explicit EddsaOp(const Object& key) : key_(key) {}
  void Update(ByteView in) override { Append(msg_, in); }

  Bytes Sign() override {
    Bytes sig(64);
    if (ed25519::Sign(key_.pkey.get(), ByteView(msg_), sig.data())) return sig;
    ossl::MdCtx ctx(ossl::Check(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
    std::size_t len = sig.size();
    if (EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key_.pkey.get(), nullptr) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len, msg_.data(), msg_.size()) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "Ed25519 sign");
    }
    return sig;
  }

  void Verify(ByteView sig) override {
    if (sig.size != 64) Fail(CKR_SIGNATURE_LEN_RANGE, "an Ed25519 signature is 64 bytes");
    ossl::MdCtx ctx(ossl::Check(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
    int ok = EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key_.pkey.get(), nullptr) == 1 &&
             EVP_DigestVerify(ctx.get(), sig.data, sig.size, msg_.data(), msg_.size()) == 1;
    ossl::ClearErrors();
    if (!ok) Fail(CKR_SIGNATURE_INVALID, "signature does not verify");
  }

 private:
  const Object& key_;
  Bytes msg_;
};

std::unique_ptr<SignOp> Eddsa(const Object& k, const MechParams&, bool) { return std::make_unique<EddsaOp>(k); }

}  // namespace

void RegisterEddsa(std::vector<MechanismInfo>& r) {
  r.push_back({.type = CKM_EDDSA, .name = "CKM_EDDSA", .flags = CKF_SIGN | CKF_VERIFY, .min_key = 255, .max_key = 255,
               .key_types = KeyTypeBit(CKK_EC_EDWARDS), .params = ParamKind::kNone, .multipart = true, .sign = Eddsa,
               .family = kFamilyEd25519});
}

}  // namespace hsm
