// native/core/profile.cc
// The profile table and attribute defaults (PKCS#11 v3.0 §4.4–4.9; CloudHSM SDK 5 §1.5).
#include "profile.h"

namespace hsm {

namespace {

// CloudHSM per-call maxima (spec/cloudhsm.md §1.4). 0x80001087 = CKM_CLOUDHSM_AES_GCM.
const std::vector<SizeLimit> kCloudHsmLimits = {
    {CKM_SHA_1_HMAC, 16288}, {CKM_SHA224_HMAC, 16256}, {CKM_SHA256_HMAC, 16288}, {CKM_SHA384_HMAC, 16224},
    {CKM_SHA512_HMAC, 16224}, {CKM_AES_CBC, 16272}, {CKM_AES_GCM, 16224}, {CKM_VENDOR_DEFINED | CKM_AES_GCM, 16224},
    {CKM_EDDSA, 16000}, {CKM_DES3_CBC, 16280},
};

Profile CloudHsm(const char* name, const char* description, bool non_fips, std::size_t keys, std::size_t asym, std::size_t users) {
  Profile p{
      name, description,
      /*ownership=*/true, "admin", nullptr, 8, 32, 5,
      /*private_must_be_true=*/true, /*default_extractable=*/true, /*default_capabilities=*/false,
      /*secret_sign_verify=*/true, /*generic_secret_no_cipher=*/true, /*set_attribute_value=*/false,
      /*token_admin_functions=*/false, /*secret_value_readable=*/true,
      kFamilyCloudHsm | (non_fips ? kFamilyEd25519 | kFamilyDes3 : 0u), /*hsm_generated_gcm_iv=*/true, /*gcm_multipart=*/false,
      kCloudHsmLimits, keys, asym, users, 1024, /*login_hides_lock=*/true, /*standard_session_rules=*/false,
      /*min_rsa_keygen_bits=*/2048, /*find_count_query=*/true};
  p.inapplicable_attribute = CKR_TEMPLATE_INCONSISTENT;
  return p;
}

}  // namespace

std::size_t Profile::LimitFor(CK_MECHANISM_TYPE m) const {
  for (const SizeLimit& l : size_limits) {
    if (l.mechanism == m) return l.max_bytes;
  }
  return 0;
}

const std::vector<Profile>& AllProfiles() {
  static const std::vector<Profile> all = {
      CloudHsm("cloudhsm", "AWS CloudHSM, hsm2m.medium, non-FIPS mode (Client SDK 5)", true, 16666, 3333, 1024),
      CloudHsm("cloudhsm-fips", "AWS CloudHSM, hsm2m.medium, FIPS mode (Client SDK 5)", false, 16666, 3333, 1024),
      CloudHsm("cloudhsm-hsm1", "AWS CloudHSM, hsm1.medium, FIPS mode (Client SDK 5)", false, 3300, 3300, 250),
      Profile{"pkcs11", "a standard PKCS#11 3.0 token (SO and User PINs)",
              /*ownership=*/false, "so", "user", 4, 255, /*max_failed_logins=*/10,
              /*private_must_be_true=*/false, /*default_extractable=*/false, /*default_capabilities=*/true,
              /*secret_sign_verify=*/true, /*generic_secret_no_cipher=*/false, /*set_attribute_value=*/true,
              /*token_admin_functions=*/true, /*secret_value_readable=*/true,
              kFamilyStandardAesWrap | kFamilyEd25519 | kFamilyDes3 | kFamilyBeyondCloudHsm, /*hsm_generated_gcm_iv=*/false, /*gcm_multipart=*/true,
              {}, 1000000, 1000000, 2, 100000, /*login_hides_lock=*/false, /*standard_session_rules=*/true,
              /*min_rsa_keygen_bits=*/1024},
  };
  return all;
}

const Profile& ProfileByName(const std::string& name) {
  std::string known;
  for (const Profile& p : AllProfiles()) {
    if (name == p.name) return p;
    known += known.empty() ? p.name : std::string(", ") + p.name;
  }
  Fail(CKR_ARGUMENTS_BAD, "unknown profile '" + name + "' (known: " + known + ")");
}

void CheckTemplateForProfile(const Profile& p, const Attributes& t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt) {
  bool key = cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
  if (p.private_must_be_true && key && t.Bool(CKA_PRIVATE) == false) {
    Fail(CKR_ATTRIBUTE_VALUE_INVALID, std::string("CKA_PRIVATE must be true on keys in the ") + p.name + " profile");
  }
  if (!p.ownership) return;  // the remaining rules are CloudHSM's "unsupported for that type" (✖)
  if (t.BoolOr(CKA_SIGN_RECOVER, false) || t.BoolOr(CKA_VERIFY_RECOVER, false)) {
    Fail(CKR_TEMPLATE_INCONSISTENT, "sign/verify recover are not supported");
  }
  if (p.generic_secret_no_cipher && kt == CKK_GENERIC_SECRET) {
    for (CK_ATTRIBUTE_TYPE a : {CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP}) {
      if (t.BoolOr(a, false)) Fail(CKR_TEMPLATE_INCONSISTENT, "generic secrets cannot encrypt, decrypt, wrap or unwrap here");
    }
  }
  if (kt == CKK_EC_EDWARDS) {
    for (CK_ATTRIBUTE_TYPE a : {CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE}) {
      if (t.BoolOr(a, false)) Fail(CKR_TEMPLATE_INCONSISTENT, "Ed25519 keys only sign and verify");
    }
  }
  if (cls == CKO_PUBLIC_KEY && t.BoolOr(CKA_DERIVE, false)) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_DERIVE is never true on a public key");
}

void ApplyDefaults(const Profile& p, Object& obj, KeyOrigin origin, CK_MECHANISM_TYPE gen_mech) {
  Attributes& a = obj.attrs;
  a.SetUlong(CKA_CLASS, obj.cls);
  a.SetDefaultBool(CKA_TOKEN, false);
  a.SetDefaultBool(CKA_MODIFIABLE, true);
  a.SetDefaultBool(CKA_COPYABLE, true);
  a.SetDefaultBool(CKA_DESTROYABLE, true);
  a.SetDefault(CKA_LABEL, Bytes{});
  if (!obj.IsKey()) {
    a.SetDefaultBool(CKA_PRIVATE, false);
    return;
  }
  a.SetUlong(CKA_KEY_TYPE, obj.key_type);
  a.SetDefault(CKA_ID, Bytes{});
  a.SetDefault(CKA_START_DATE, Bytes{});
  a.SetDefault(CKA_END_DATE, Bytes{});
  a.SetDefaultBool(CKA_DERIVE, false);
  // CloudHSM: every key is private; PKCS#11 tokens: private and secret keys are.
  a.SetDefaultBool(CKA_PRIVATE, p.private_must_be_true || obj.cls != CKO_PUBLIC_KEY);
  bool caps = p.default_capabilities;
  bool secret_mac = obj.cls == CKO_SECRET_KEY && p.secret_sign_verify;
  bool local = origin == KeyOrigin::kGenerated;
  a.SetBool(CKA_LOCAL, local);
  a.SetUlong(CKA_KEY_GEN_MECHANISM, local ? gen_mech : CK_UNAVAILABLE_INFORMATION);
  if (obj.cls != CKO_PRIVATE_KEY) {  // public and secret keys
    a.SetDefaultBool(CKA_ENCRYPT, caps && obj.key_type != CKK_EC_EDWARDS);
    a.SetDefaultBool(CKA_VERIFY, caps || secret_mac);
    a.SetDefaultBool(CKA_WRAP, caps && obj.key_type != CKK_EC_EDWARDS);
    a.SetDefaultBool(CKA_TRUSTED, false);
  }
  if (obj.cls == CKO_PUBLIC_KEY) {
    a.SetDefaultBool(CKA_VERIFY_RECOVER, false);
    a.SetDefault(CKA_SUBJECT, Bytes{});
    return;
  }
  a.SetDefaultBool(CKA_DECRYPT, caps && obj.key_type != CKK_EC_EDWARDS);
  a.SetDefaultBool(CKA_SIGN, caps || secret_mac);
  a.SetDefaultBool(CKA_UNWRAP, caps && obj.key_type != CKK_EC_EDWARDS);
  a.SetDefaultBool(CKA_SENSITIVE, true);
  a.SetDefaultBool(CKA_EXTRACTABLE, p.default_extractable);
  a.SetDefaultBool(CKA_WRAP_WITH_TRUSTED, false);
  if (obj.cls == CKO_PRIVATE_KEY) {
    a.SetDefaultBool(CKA_SIGN_RECOVER, false);
    a.SetDefaultBool(CKA_ALWAYS_AUTHENTICATE, false);
    a.SetDefault(CKA_SUBJECT, Bytes{});
  }
  // Generated keys have been sensitive / unextractable all their life if they are now;
  // created and unwrapped keys existed outside the token. Derived keys: see Token::DeriveKey.
  if (origin == KeyOrigin::kGenerated) {
    a.SetBool(CKA_ALWAYS_SENSITIVE, obj.Flag(CKA_SENSITIVE));
    a.SetBool(CKA_NEVER_EXTRACTABLE, !obj.Flag(CKA_EXTRACTABLE));
  } else if (origin != KeyOrigin::kDerived) {
    a.SetBool(CKA_ALWAYS_SENSITIVE, false);
    a.SetBool(CKA_NEVER_EXTRACTABLE, false);
  }
}

}  // namespace hsm
