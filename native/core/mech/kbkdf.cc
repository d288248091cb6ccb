// native/core/mech/kbkdf.cc
//
// SP 800-108 key derivation in counter mode: CKM_SP800_108_COUNTER_KDF (PKCS#11 3.0) and CloudHSM's
// vendor CKM_CLOUDHSM_SP800_108_COUNTER_KDF. Each block is PRF(K, [i]_r || label || 0x00 || context
// || [L]_32), with PRF = HMAC-SHA1..SHA512 over a generic secret or AES-CMAC over an AES key,
// a 32-bit counter [i] (the only width OpenSSL 3.0's KBKDF offers; counterBits other than 32 is
// refused), L = the output length in bits (dkmBits 32, or 0 to omit it).
#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include <string>

#include "../profile.h"
#include "aes_common.h"

namespace hsm {

namespace {

SecureBytes Kbkdf(const Object& base, const MechParams& p, std::size_t len) {
  if (len == 0) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_VALUE_LEN is required for SP 800-108");
  CK_ULONG prf = Need(p.prf, "prf");
  std::string mac = "HMAC", digest, cipher;
  switch (prf) {
    case CKM_SHA_1_HMAC: digest = "SHA1"; break;
    case CKM_SHA224_HMAC: digest = "SHA2-224"; break;
    case CKM_SHA256_HMAC: digest = "SHA2-256"; break;
    case CKM_SHA384_HMAC: digest = "SHA2-384"; break;
    case CKM_SHA512_HMAC: digest = "SHA2-512"; break;
    case CKM_AES_CMAC:
      if (base.key_type != CKK_AES) Fail(CKR_KEY_TYPE_INCONSISTENT, "an AES-CMAC PRF needs an AES base key");
      mac = "CMAC";
      cipher = AesName(base.secret.size(), "CBC");
      break;
    default: Fail(CKR_MECHANISM_PARAM_INVALID, "prf must be CKM_SHA_1_HMAC..CKM_SHA512_HMAC or CKM_AES_CMAC");
  }
  if (p.counter_bits.value_or(32) != 32) Fail(CKR_MECHANISM_PARAM_INVALID, "counterBits must be 32 (OpenSSL 3.0 counts in 32 bits)");
  CK_ULONG dkm = p.dkm_bits.value_or(32);
  if (dkm != 0 && dkm != 32) Fail(CKR_MECHANISM_PARAM_INVALID, "dkmBits must be 32 (encode L) or 0 (omit it)");
  int use_l = dkm == 32 ? 1 : 0, sep = p.kbkdf_separator.value_or(true) ? 1 : 0;
  std::string mode = "counter";
  Bytes label = p.source_data.value_or(Bytes{}), context = p.context.value_or(Bytes{});
  std::vector<OSSL_PARAM> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, mode.data(), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, mac.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(base.secret.data()), base.secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, label.data(), label.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, context.data(), context.size()),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_KBKDF_USE_L, &use_l),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_KBKDF_USE_SEPARATOR, &sep)};
  if (!digest.empty()) params.push_back(OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0));
  if (!cipher.empty()) params.push_back(OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_CIPHER, cipher.data(), 0));
  params.push_back(OSSL_PARAM_construct_end());
  ossl::KdfCtx ctx(ossl::Check(EVP_KDF_CTX_new(ossl::Kdf("KBKDF")), "EVP_KDF_CTX_new"));
  SecureBytes out(len);
  if (EVP_KDF_derive(ctx.get(), out.data(), len, params.data()) != 1) ossl::Raise(CKR_MECHANISM_PARAM_INVALID, "SP 800-108 KDF");
  return out;
}

}  // namespace

void RegisterKbkdf(std::vector<MechanismInfo>& r) {
  const unsigned keys = KeyTypeBit(CKK_GENERIC_SECRET) | KeyTypeBit(CKK_AES);
  r.push_back({.type = CKM_SP800_108_COUNTER_KDF, .name = "CKM_SP800_108_COUNTER_KDF", .flags = CKF_DERIVE, .min_key = 1,
               .max_key = 800, .key_types = keys, .params = ParamKind::kKbkdf, .multipart = false, .derive = Kbkdf,
               .family = kFamilyBeyondCloudHsm});
  r.push_back({.type = CKM_CLOUDHSM_SP800_108_COUNTER_KDF, .name = "CKM_CLOUDHSM_SP800_108_COUNTER_KDF", .flags = CKF_DERIVE,
               .min_key = 1, .max_key = 800, .key_types = keys, .params = ParamKind::kKbkdf, .multipart = false, .derive = Kbkdf,
               .family = kFamilyCloudHsm});
}

}  // namespace hsm
