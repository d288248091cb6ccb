// native/core/profile.h
//
// Token profiles: the one table that fixes how a token behaves — its user model, attribute
// defaults, mechanism set, per-call size limits and quotas. Code asks the profile a question
// (profile.ownership, profile.LimitFor(mech)); it never tests a profile's name.
// Facts for the CloudHSM rows: ../shared/spec/cloudhsm.md §1.3–1.7, §2.
#pragma once

#include <string>
#include <vector>

#include "object.h"

namespace hsm {

enum class KeyOrigin { kCreated, kGenerated, kUnwrapped, kDerived };

// Mechanism families a profile may switch on (MechanismInfo::family).
enum MechFamily : unsigned {
  kFamilyStandard = 0,           // always available
  kFamilyStandardAesWrap = 1u << 0,  // CKM_AES_KEY_WRAP, _PAD, _KWP, and wrapping with ECB/CBC (not in CloudHSM SDK 5)
  kFamilyCloudHsm = 1u << 1,     // CKM_CLOUDHSM_* vendor mechanisms
  kFamilyEd25519 = 1u << 2,      // Ed25519 (hsm2m.medium, non-FIPS only)
  kFamilyDes3 = 1u << 4,         // Triple DES (not in FIPS mode)
  kFamilyBeyondCloudHsm = 1u << 3,  // standard mechanisms CloudHSM lacks: HKDF, the *_GENERAL MACs,
                                    // CKM_SP800_108_COUNTER_KDF by its PKCS#11 3.0 number
};

struct SizeLimit {
  CK_MECHANISM_TYPE mechanism;
  std::size_t max_bytes;  // per call (C_Encrypt, C_Sign, each Update)
};

struct Profile {
  const char* name;
  const char* description;
  // Users and login
  bool ownership;               // crypto users own keys and share them; admins cannot use keys
  const char* admin_name;       // the admin that exists unactivated: "admin" (CloudHSM) or "so"
  const char* only_crypto_user; // nullptr = any name; "user" = the single PKCS#11 normal user
  std::size_t min_password, max_password;
  int max_failed_logins;        // more failures than this lock the user (0 = never)
  // Attributes
  bool private_must_be_true;    // CKA_PRIVATE=false is CKR_ATTRIBUTE_VALUE_INVALID
  bool default_extractable;
  bool default_capabilities;    // encrypt/decrypt/sign/verify/wrap/unwrap default true
  bool secret_sign_verify;      // secret keys default to sign+verify (CloudHSM)
  bool generic_secret_no_cipher;// generic secrets refuse encrypt/decrypt/wrap/unwrap in templates
  bool set_attribute_value;     // C_SetAttributeValue on keys (else only the set-attribute rules)
  bool token_admin_functions;   // C_InitToken, C_InitPIN, C_SetPIN, C_CopyObject, C_GetObjectSize, C_SeedRandom
  bool secret_value_readable;   // CKA_VALUE of a non-sensitive, extractable secret key may be read
  // Mechanisms
  unsigned families;            // MechFamily bits switched on
  bool hsm_generated_gcm_iv;    // the token makes the 12-byte GCM IV and writes it back
  bool gcm_multipart;
  std::vector<SizeLimit> size_limits;
  // Quotas
  std::size_t max_keys, max_asymmetric_keys, max_users, max_sessions;

  // A failed login says the same for an unknown user, a wrong password and a locked user (CloudHSM
  // names are secret; PKCS#11's SO and user are not, and CKR_PIN_LOCKED is the standard's answer).
  bool login_hides_lock = false;
  // PKCS#11 §5.6 session and login rules: another user type logged in is
  // CKR_USER_ANOTHER_ALREADY_LOGGED_IN; an SO login with a read-only session open is
  // CKR_SESSION_READ_ONLY_EXISTS; a read-only session while the SO is logged in is
  // CKR_SESSION_READ_WRITE_SO_EXISTS. (CloudHSM: one login per application, any session.)
  bool standard_session_rules = false;
  // The smallest RSA key generated (CloudHSM: 2048; other software tokens, and much test code, 1024).
  CK_ULONG min_rsa_keygen_bits = 2048;
  // C_FindObjects(h, NULL, n, &count) answers how many objects the next call would return (CloudHSM
  // does, and AWS's samples rely on it; the standard says CKR_ARGUMENTS_BAD).
  bool find_count_query = false;
  // A known attribute in a template for a class or key type it does not apply to: the standard's
  // CKR_ATTRIBUTE_TYPE_INVALID, or CloudHSM's CKR_TEMPLATE_INCONSISTENT (its error-code page: an
  // attribute it does not support in that template, e.g. CKA_SIGN_RECOVER on an AES key).
  CK_RV inapplicable_attribute = CKR_ATTRIBUTE_TYPE_INVALID;

  std::size_t LimitFor(CK_MECHANISM_TYPE m) const;  // 0 = unlimited
};

// CKR_ARGUMENTS_BAD names the known profiles when `name` is not one.
const Profile& ProfileByName(const std::string& name);
const std::vector<Profile>& AllProfiles();

// Fills the attributes a template left out, and the token-computed ones for the key's origin.
void ApplyDefaults(const Profile& p, Object& obj, KeyOrigin origin, CK_MECHANISM_TYPE gen_mech);
// Profile rules on a caller's template (CKA_PRIVATE must stay true, unsupported flags).
void CheckTemplateForProfile(const Profile& p, const Attributes& t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt);

}  // namespace hsm
