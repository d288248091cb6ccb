// native/core/mech/aes_block.cc
//
// CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_CTR (PKCS#11 v3.0 §2.14.x): multi-part
// encrypt/decrypt over EVP_CIPHER. ECB/CBC without padding need whole blocks; CBC_PAD uses PKCS#7.
// All four wrap and unwrap as the standard's table has them: ECB and CBC in the pkcs11 profile only
// (a key whose length is a whole number of blocks; CloudHSM's library wraps with neither); CBC_PAD
// and CTR in every profile, for Web Crypto's wrapKey with AES-CBC and AES-CTR.
#include <openssl/evp.h>

#include "../profile.h"
#include "aes_common.h"
#include "block_cipher.h"

namespace hsm {

namespace {

const Bytes& NeedIv16(const MechParams& p) {
  const Bytes& iv = Need(p.iv, "iv");
  if (iv.size() != 16) Fail(CKR_MECHANISM_PARAM_INVALID, "the IV must be 16 bytes");
  return iv;
}

std::unique_ptr<CipherOp> Ecb(const Object& k, const MechParams& p, bool enc) {
  if (p.iv) Fail(CKR_MECHANISM_PARAM_INVALID, "CKM_AES_ECB takes no parameter");
  return NewBlockCipher(AesName(k.secret.size(), "ECB"), 16, k.secret.view(), nullptr, enc, false, 0);
}
std::unique_ptr<CipherOp> Cbc(const Object& k, const MechParams& p, bool enc) {
  return NewBlockCipher(AesName(k.secret.size(), "CBC"), 16, k.secret.view(), &NeedIv16(p), enc, false, 0);
}
std::unique_ptr<CipherOp> CbcPad(const Object& k, const MechParams& p, bool enc) {
  return NewBlockCipher(AesName(k.secret.size(), "CBC"), 16, k.secret.view(), &NeedIv16(p), enc, true, 0);
}
std::unique_ptr<CipherOp> Ctr(const Object& k, const MechParams& p, bool enc) {
  const Bytes& cb = NeedIv16(p);
  CK_ULONG bits = Need(p.counter_bits, "counterBits");
  if (bits == 0 || bits > 128) Fail(CKR_MECHANISM_PARAM_INVALID, "counterBits must be 1..128");
  return NewBlockCipher(AesName(k.secret.size(), "CTR"), 16, k.secret.view(), &cb, enc, false, static_cast<unsigned>(bits));
}

}  // namespace

void RegisterAesBlock(std::vector<MechanismInfo>& r) {
  const unsigned aes = KeyTypeBit(CKK_AES);
  const CK_FLAGS ed = CKF_ENCRYPT | CKF_DECRYPT;
  const CK_FLAGS wraps = ed | CKF_WRAP | CKF_UNWRAP;
  r.push_back({CKM_AES_ECB, "CKM_AES_ECB", wraps, kAesMinKey, kAesMaxKey, aes, ParamKind::kNone, true, Ecb});
  r.back().wrap_family = kFamilyStandardAesWrap;
  r.push_back({CKM_AES_CBC, "CKM_AES_CBC", wraps, kAesMinKey, kAesMaxKey, aes, ParamKind::kIv16, true, Cbc});
  r.back().wrap_family = kFamilyStandardAesWrap;
  r.push_back({CKM_AES_CBC_PAD, "CKM_AES_CBC_PAD", wraps, kAesMinKey, kAesMaxKey, aes, ParamKind::kIv16, true, CbcPad});
  r.push_back({CKM_AES_CTR, "CKM_AES_CTR", wraps, kAesMinKey, kAesMaxKey, aes, ParamKind::kCtr, true, Ctr});
}

}  // namespace hsm
