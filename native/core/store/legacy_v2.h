// native/core/store/legacy_v2.h
//
// Reading a token of format 2 (every user's password wrapping one master key) for
// `sealhsm token migrate`: each user's password proven against its verifier and its wrap, the whole
// state verified as format 2 did (header, row MACs, manifest, generation mark), every object's
// material unsealed. Writes nothing. Nothing else reads format 2.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "../bytes.h"
#include "../users.h"

namespace hsm::legacy {

struct LegacyObject {
  CK_OBJECT_HANDLE handle = 0;
  CK_OBJECT_CLASS cls = 0;
  CK_KEY_TYPE key_type = 0;
  std::string owner;
  std::set<std::string> shared_with;
  Bytes attrs;
  SecureBytes material;  // the secret value or PKCS#8, empty for other classes
};

struct LegacyToken {
  std::string profile, label;
  int max_failed_logins = -1;
  std::vector<std::pair<std::string, Role>> users;  // as stored, admins first
  std::vector<LegacyObject> objects;                 // by handle
  int64_t next_handle = 0;                           // past every handle the token ever gave
};

// CKR_ARGUMENTS_BAD naming the users whose passwords are missing; CKR_PIN_INCORRECT naming the first
// wrong one; CKR_SEALHSM_INTEGRITY_FAILURE when the token does not verify; CKR_TOKEN_NOT_RECOGNIZED
// when it is not format 2.
LegacyToken Read(const std::string& dir, const std::map<std::string, SecureBytes>& passwords);

}  // namespace hsm::legacy
