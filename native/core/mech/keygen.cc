// native/core/mech/keygen.cc
//
// Key generation (PKCS#11 v3.0 §2.14.2 AES, §4.8 generic secret, §2.1.4 RSA, §2.3.5 EC and Edwards).
// RSA: 2048–4096 bits in steps of 256 (from 1024 where the profile allows), public exponent odd and
// ≥ 65537 (default 65537). CKM_RSA_X9_31_KEY_PAIR_GEN (CloudHSM's, in every AWS sample) makes the
// same keys with FIPS 186-4's extra conditions on p, q and d checked (B.3.1: |p - q| > 2^(nlen/2 - 100),
// d > 2^(nlen/2)); signing stays PKCS#1 / PSS, as on CloudHSM.
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "../keys.h"
#include "../profile.h"
#include "ed25519_sodium.h"
#include "mechanism.h"

namespace hsm {

namespace {

SecureBytes RandomSecret(const Attributes& t, CK_KEY_TYPE kt) {
  CK_ULONG len = t.Ulong(CKA_VALUE_LEN).value_or(0);
  if (!t.Has(CKA_VALUE_LEN)) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_VALUE_LEN is required");
  CheckSecretLength(kt, len, CKR_KEY_SIZE_RANGE);
  SecureBytes v(len);
  ossl::RandomInto(v.data(), v.size());
  return v;
}

KeyGenResult GenRsa(const Attributes& t, CK_ULONG min_bits) {
  CK_ULONG bits = t.Ulong(CKA_MODULUS_BITS).value_or(0);
  if (!t.Has(CKA_MODULUS_BITS)) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_MODULUS_BITS is required");
  if (bits < min_bits || bits > 4096 || bits % 256 != 0) {
    Fail(CKR_KEY_SIZE_RANGE, "RSA keys are " + std::to_string(min_bits) + "..4096 bits in steps of 256 here");
  }
  ossl::Bn e(ossl::Check(BN_new(), "BN_new"));
  if (const Bytes* pe = t.Find(CKA_PUBLIC_EXPONENT)) {
    e = ossl::BnFromBytes(*pe);
  } else {
    BN_set_word(e.get(), RSA_F4);
  }
  if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) > 256 || (BN_num_bits(e.get()) <= 17 && BN_get_word(e.get()) < RSA_F4)) {
    Fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_PUBLIC_EXPONENT must be odd and at least 65537");
  }
  ossl::PkeyCtx ctx = ossl::NewPkeyCtxForType("RSA");
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(bits)) != 1 ||
      EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx.get(), e.get()) != 1 || EVP_PKEY_generate(ctx.get(), &key) != 1) {
    ossl::Raise(CKR_GENERAL_ERROR, "RSA key generation");
  }
  return {ossl::AdoptPkey(key), nullptr};
}

// A parameters-only key per Weierstrass curve, made once. Generating from it skips OpenSSL 3.0's
// by-name key-manager lookup, which costs a large share of a P-256 key generation.
EVP_PKEY* CurveTemplate(const Curve& c) {
  static std::mutex mu;
  static std::map<const Curve*, ossl::Pkey> cache;
  std::lock_guard<std::mutex> lock(mu);
  ossl::Pkey& slot = cache[&c];
  if (!slot) {
    ossl::PkeyCtx ctx = ossl::NewPkeyCtxForType("EC");
    std::string group = c.name;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0), OSSL_PARAM_construct_end()};
    EVP_PKEY* k = nullptr;
    if (EVP_PKEY_fromdata_init(ctx.get()) != 1 || EVP_PKEY_fromdata(ctx.get(), &k, EVP_PKEY_KEY_PARAMETERS, params) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "EC parameters");
    }
    slot = ossl::AdoptPkey(k);
  }
  return slot.get();
}

// A key-generation context per curve and thread, initialized once and used for every key that
// thread makes on that curve (EVP_PKEY_generate makes a new key on each call): making and
// initializing a context per key was a sixth of an Ed25519 key generation. Holds no key.
EVP_PKEY_CTX* KeygenContext(const Curve& c) {
  thread_local std::map<const Curve*, ossl::PkeyCtx> contexts;
  ossl::PkeyCtx& slot = contexts[&c];
  if (!slot) {
    ossl::PkeyCtx ctx(c.key_type == CKK_EC ? ossl::NewPkeyCtx(CurveTemplate(c)) : ossl::NewPkeyCtxForType(c.name));
    if (EVP_PKEY_keygen_init(ctx.get()) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EC key generation");
    slot = std::move(ctx);
  }
  return slot.get();
}

KeyGenResult GenEcLike(const Attributes& t, CK_KEY_TYPE kt) {
  const Curve& c = CurveFromParams(t.Get(CKA_EC_PARAMS));
  if (c.key_type != kt) Fail(CKR_TEMPLATE_INCONSISTENT, std::string(c.pretty) + " does not go with this mechanism");
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_generate(KeygenContext(c), &key) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EC key generation");
  return {ossl::AdoptPkey(key), &c};
}

// FIPS 186-4 B.3.1 conditions OpenSSL's generator does not promise: p and q far apart, d large.
bool MeetsFips186(EVP_PKEY* key) {
  auto get = [&](const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) ossl::Raise(CKR_GENERAL_ERROR, name);
    return ossl::Bn(bn);
  };
  ossl::Bn n = get(OSSL_PKEY_PARAM_RSA_N), p = get(OSSL_PKEY_PARAM_RSA_FACTOR1), q = get(OSSL_PKEY_PARAM_RSA_FACTOR2);
  ossl::Bn d = get(OSSL_PKEY_PARAM_RSA_D), diff(ossl::Check(BN_new(), "BN_new"));
  int half = BN_num_bits(n.get()) / 2;
  if (BN_sub(diff.get(), p.get(), q.get()) != 1) ossl::Raise(CKR_GENERAL_ERROR, "BN_sub");
  return BN_num_bits(diff.get()) > half - 100 && BN_num_bits(d.get()) > half;
}

KeyGenResult GenRsaX931(const Attributes& t, CK_ULONG min_bits) {
  for (int attempt = 0; attempt < 16; attempt++) {
    KeyGenResult k = GenRsa(t, min_bits);
    if (MeetsFips186(k.pkey.get())) return k;
  }
  Fail(CKR_FUNCTION_FAILED, "no RSA key meeting FIPS 186-4's conditions in 16 tries");
}

KeyGenResult GenEc(const Attributes& t, CK_ULONG) { return GenEcLike(t, CKK_EC); }
KeyGenResult GenEdwards(const Attributes& t, CK_ULONG) {
  const Curve& c = CurveFromParams(t.Get(CKA_EC_PARAMS));
  if (c.key_type == CKK_EC_EDWARDS && std::string_view(c.name) == "ED25519") {
    if (ossl::Pkey k = ed25519::Generate()) return {std::move(k), &c};
  }
  return GenEcLike(t, CKK_EC_EDWARDS);
}

}  // namespace

void RegisterKeyGen(std::vector<MechanismInfo>& r) {
  r.push_back({.type = CKM_AES_KEY_GEN, .name = "CKM_AES_KEY_GEN", .flags = CKF_GENERATE, .min_key = 16, .max_key = 32,
               .params = ParamKind::kNone, .gen_secret = RandomSecret, .gen_key_type = CKK_AES});
  r.push_back({.type = CKM_GENERIC_SECRET_KEY_GEN, .name = "CKM_GENERIC_SECRET_KEY_GEN", .flags = CKF_GENERATE, .min_key = 1,
               .max_key = 800, .params = ParamKind::kNone, .gen_secret = RandomSecret, .gen_key_type = CKK_GENERIC_SECRET});
  r.push_back({.type = CKM_RSA_PKCS_KEY_PAIR_GEN, .name = "CKM_RSA_PKCS_KEY_PAIR_GEN", .flags = CKF_GENERATE_KEY_PAIR,
               .min_key = 2048, .max_key = 4096, .params = ParamKind::kNone, .gen_key_type = CKK_RSA, .gen_pair = GenRsa});
  r.push_back({.type = CKM_RSA_X9_31_KEY_PAIR_GEN, .name = "CKM_RSA_X9_31_KEY_PAIR_GEN", .flags = CKF_GENERATE_KEY_PAIR,
               .min_key = 2048, .max_key = 4096, .params = ParamKind::kNone, .gen_key_type = CKK_RSA, .gen_pair = GenRsaX931});
  r.push_back({.type = CKM_EC_KEY_PAIR_GEN, .name = "CKM_EC_KEY_PAIR_GEN",
               .flags = CKF_GENERATE_KEY_PAIR | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS, .min_key = 224,
               .max_key = 521, .params = ParamKind::kNone, .gen_key_type = CKK_EC, .gen_pair = GenEc});
  r.push_back({.type = CKM_EC_EDWARDS_KEY_PAIR_GEN, .name = "CKM_EC_EDWARDS_KEY_PAIR_GEN", .flags = CKF_GENERATE_KEY_PAIR,
               .min_key = 255, .max_key = 255, .params = ParamKind::kNone, .gen_key_type = CKK_EC_EDWARDS, .gen_pair = GenEdwards,
               .family = kFamilyEd25519});
}

}  // namespace hsm
