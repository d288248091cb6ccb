// native/core/profile.cc
// The profile table and attribute defaults (PKCS#11 v3.0 §4.4–4.9 default values).
#include "profile.h"

namespace hsm {

const std::vector<Profile>& AllProfiles() {
  static const std::vector<Profile> all = {
      {"pkcs11", "a standard PKCS#11 3.0 token", true, false, true, true},
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
  a.SetDefaultBool(CKA_PRIVATE, obj.cls != CKO_PUBLIC_KEY && p.default_private);
  bool caps = p.default_capabilities;
  bool local = origin == KeyOrigin::kGenerated;
  a.SetBool(CKA_LOCAL, local);
  a.SetUlong(CKA_KEY_GEN_MECHANISM, local ? gen_mech : CK_UNAVAILABLE_INFORMATION);
  if (obj.cls != CKO_PRIVATE_KEY) {  // public and secret keys
    a.SetDefaultBool(CKA_ENCRYPT, caps);
    a.SetDefaultBool(CKA_VERIFY, caps);
    a.SetDefaultBool(CKA_WRAP, caps);
    a.SetDefaultBool(CKA_TRUSTED, false);
  }
  if (obj.cls == CKO_PUBLIC_KEY) {
    a.SetDefaultBool(CKA_VERIFY_RECOVER, false);
    a.SetDefault(CKA_SUBJECT, Bytes{});
    return;
  }
  a.SetDefaultBool(CKA_DECRYPT, caps);
  a.SetDefaultBool(CKA_SIGN, caps);
  a.SetDefaultBool(CKA_UNWRAP, caps);
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
