// native/core/mech/digest.cc
// CKM_SHA_1, CKM_SHA224/256/384/512 (PKCS#11 v3.0 §2.16–2.19): multi-part digests, no key.
#include "mechanism.h"

namespace hsm {

namespace {

class DigestImpl final : public DigestOp {
 public:
  explicit DigestImpl(const char* md) : ctx_(ossl::Check(EVP_MD_CTX_new(), "EVP_MD_CTX_new")) {
    if (EVP_DigestInit_ex2(ctx_.get(), ossl::Md(md), nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EVP_DigestInit_ex2");
  }
  void Update(ByteView in) override {
    if (EVP_DigestUpdate(ctx_.get(), in.data, in.size) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EVP_DigestUpdate");
  }
  Bytes Final() override {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EVP_DigestFinal_ex");
    out.resize(len);
    return out;
  }

 private:
  ossl::MdCtx ctx_;
};

std::unique_ptr<DigestOp> Digest(const MechParams& p) { return std::make_unique<DigestImpl>(DigestNameForHashMech(p.type)); }

}  // namespace

void RegisterDigest(std::vector<MechanismInfo>& r) {
  const std::pair<CK_MECHANISM_TYPE, const char*> list[] = {
      {CKM_SHA_1, "CKM_SHA_1"}, {CKM_SHA224, "CKM_SHA224"}, {CKM_SHA256, "CKM_SHA256"},
      {CKM_SHA384, "CKM_SHA384"}, {CKM_SHA512, "CKM_SHA512"}};
  for (const auto& [type, name] : list) {
    r.push_back({.type = type, .name = name, .flags = CKF_DIGEST, .min_key = 0, .max_key = 0, .key_types = 0,
                 .params = ParamKind::kNone, .multipart = true, .digest = Digest});
  }
}

}  // namespace hsm
