// native/core/mech/registry.cc
//
// The mechanism registry: the only list of mechanisms sealhsm has. Each family file contributes
// its entries here; nothing else in core enumerates mechanisms.
#include <algorithm>

#include "mechanism.h"

namespace hsm {

namespace {

// A family whose every mechanism is light (MechanismInfo::light): AES modes, CMAC, digests, HMAC.
void RegisterLight(std::vector<MechanismInfo>& r, void (*family)(std::vector<MechanismInfo>&)) {
  const std::size_t first = r.size();
  family(r);
  for (std::size_t i = first; i < r.size(); ++i) r[i].light = true;
}

}  // namespace

const std::vector<MechanismInfo>& AllMechanisms() {
  static const std::vector<MechanismInfo> all = [] {
    std::vector<MechanismInfo> r;
    RegisterKeyGen(r);
    RegisterLight(r, RegisterAesBlock);
    RegisterDes3(r);
    RegisterLight(r, RegisterAesGcm);
    RegisterLight(r, RegisterAesMac);
    RegisterAesKeyWrap(r);
    RegisterLight(r, RegisterDigest);
    RegisterLight(r, RegisterHmac);
    RegisterRsaPkcs(r);
    RegisterRsaPss(r);
    RegisterRsaOaep(r);
    RegisterRsaAesWrap(r);
    RegisterEcdsa(r);
    RegisterEddsa(r);
    RegisterEcdh(r);
    RegisterHkdf(r);
    RegisterCloudHsmWrap(r);
    RegisterKbkdf(r);
    std::sort(r.begin(), r.end(), [](const MechanismInfo& a, const MechanismInfo& b) { return a.type < b.type; });
    return r;
  }();
  return all;
}

const MechanismInfo* FindMechanism(CK_MECHANISM_TYPE type) {
  const auto& all = AllMechanisms();
  auto it = std::lower_bound(all.begin(), all.end(), type, [](const MechanismInfo& m, CK_MECHANISM_TYPE t) { return m.type < t; });
  return (it != all.end() && it->type == type) ? &*it : nullptr;
}

const char* DigestNameForHashMech(CK_MECHANISM_TYPE hash) {
  switch (hash) {
    case CKM_SHA_1: return "SHA1";
    case CKM_SHA224: return "SHA2-224";
    case CKM_SHA256: return "SHA2-256";
    case CKM_SHA384: return "SHA2-384";
    case CKM_SHA512: return "SHA2-512";
    default: Fail(CKR_MECHANISM_PARAM_INVALID, "hash must be CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384 or CKM_SHA512");
  }
}

const char* DigestNameForMgf(CK_ULONG mgf) {
  switch (mgf) {
    case CKG_MGF1_SHA1: return "SHA1";
    case CKG_MGF1_SHA224: return "SHA2-224";
    case CKG_MGF1_SHA256: return "SHA2-256";
    case CKG_MGF1_SHA384: return "SHA2-384";
    case CKG_MGF1_SHA512: return "SHA2-512";
    default: Fail(CKR_MECHANISM_PARAM_INVALID, "mgf must be one of CKG_MGF1_SHA1..CKG_MGF1_SHA512");
  }
}

bool OfferedIn(const MechanismInfo& m, unsigned families) { return m.family == 0 || (m.family & families) != 0; }

CK_FLAGS FlagsIn(const MechanismInfo& m, unsigned families) {
  if (!OfferedIn(m, families)) return 0;
  bool wraps_here = m.wrap_family == 0 || (m.wrap_family & families) != 0;
  return wraps_here ? m.flags : m.flags & ~static_cast<CK_FLAGS>(CKF_WRAP | CKF_UNWRAP);
}

}  // namespace hsm
