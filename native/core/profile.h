// native/core/profile.h
//
// Token profiles: the one table that fixes how a token behaves (attribute defaults, limits, and —
// with the CloudHSM profiles — vendor rules). Code asks the profile; it never tests a profile name.
#pragma once

#include <string>
#include <vector>

#include "object.h"

namespace hsm {

enum class KeyOrigin { kCreated, kGenerated, kUnwrapped, kDerived };

struct Profile {
  const char* name;
  const char* description;
  bool default_private;          // CKA_PRIVATE on keys when the template is silent
  bool default_extractable;      // CKA_EXTRACTABLE on private and secret keys
  bool default_capabilities;     // CKA_ENCRYPT/DECRYPT/SIGN/VERIFY/WRAP/UNWRAP when silent
  bool secret_value_readable;    // CKA_VALUE of a non-sensitive, extractable secret key may be read
};

// CKR_ARGUMENTS_BAD names the known profiles when `name` is not one.
const Profile& ProfileByName(const std::string& name);
const std::vector<Profile>& AllProfiles();

// Fills the attributes a template left out, and the token-computed ones for the key's origin.
void ApplyDefaults(const Profile& p, Object& obj, KeyOrigin origin, CK_MECHANISM_TYPE gen_mech);

}  // namespace hsm
