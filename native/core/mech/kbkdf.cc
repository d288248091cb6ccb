// native/core/mech/kbkdf.cc
//
// SP 800-108 key derivation in counter mode: CKM_SP800_108_COUNTER_KDF (PKCS#11 3.0) and CloudHSM's
// vendor CKM_CLOUDHSM_SP800_108_COUNTER_KDF. Each block is PRF(K, prefix || [i]_r || label || 0x00
// || context || [L]_d), with PRF = HMAC-SHA1..SHA512 over a generic secret or AES-CMAC over an AES
// key, L = the output length in bits. The usual layout (no prefix, r = 32, d = 32 or none) is
// OpenSSL 3.0's KBKDF; CloudHSM's 2023 layout (fixed input before the counter, r = 16 or 32,
// d = 8, 16, 32 or 64) is the same construction over OpenSSL's MAC, one call a block.
#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "../profile.h"
#include "aes_common.h"
#include "mac_common.h"

namespace hsm {

namespace {

// `value` big-endian in `bits` bits.
Bytes BigEndian(uint64_t value, CK_ULONG bits) {
  Bytes out(bits / 8);
  for (std::size_t i = 0; i < out.size(); ++i) out[out.size() - 1 - i] = static_cast<uint8_t>(value >> (8 * i));
  return out;
}

// K(i) = PRF(K, prefix || [i]_r || suffix || [L]_d) for i = 1.., concatenated and cut to `len`.
SecureBytes CounterBlocks(const std::string& mac, const char* pname, const std::string& pvalue, std::size_t block_len, ByteView key,
                          const Bytes& prefix, const Bytes& suffix, CK_ULONG counter_bits, CK_ULONG dkm_bits, std::size_t len) {
  uint64_t bits = static_cast<uint64_t>(len) * 8;
  if (dkm_bits != 0 && dkm_bits < 64 && bits >> dkm_bits != 0) Fail(CKR_KEY_SIZE_RANGE, "the derived length does not fit the DKM length's width");
  Bytes length = dkm_bits == 0 ? Bytes{} : BigEndian(bits, dkm_bits);
  SecureBytes out(len);
  std::size_t at = 0;
  for (uint64_t i = 1; at < len; ++i) {
    if (i >> counter_bits != 0) Fail(CKR_KEY_SIZE_RANGE, "the derived key needs more blocks than the counter counts");
    std::unique_ptr<SignOp> prf = NewMacOp(mac.c_str(), pname, pvalue, key, block_len);
    prf->Update(prefix);
    prf->Update(BigEndian(i, counter_bits));
    prf->Update(suffix);
    prf->Update(length);
    Bytes block = prf->Sign();
    std::size_t n = std::min(block.size(), len - at);
    std::memcpy(out.data() + at, block.data(), n);
    at += n;
  }
  return out;
}

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
  CK_ULONG counter = p.counter_bits.value_or(32), dkm = p.dkm_bits.value_or(32);
  if (p.kbkdf_prefix) {
    if (counter != 16 && counter != 32) Fail(CKR_MECHANISM_PARAM_INVALID, "the counter is 16 or 32 bits");
    if (dkm != 0 && dkm != 8 && dkm != 16 && dkm != 32 && dkm != 64) Fail(CKR_MECHANISM_PARAM_INVALID, "the DKM length is 8, 16, 32 or 64 bits");
    std::size_t block = digest.empty() ? 16 : static_cast<std::size_t>(EVP_MD_get_size(ossl::Md(digest)));
    return CounterBlocks(mac, digest.empty() ? "cipher" : "digest", digest.empty() ? cipher : digest, block, base.secret.view(),
                         *p.kbkdf_prefix, p.source_data.value_or(Bytes{}), counter, dkm, len);
  }
  if (counter != 32) Fail(CKR_MECHANISM_PARAM_INVALID, "counterBits must be 32 (OpenSSL 3.0 counts in 32 bits)");
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
