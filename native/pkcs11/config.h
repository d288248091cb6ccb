// native/pkcs11/config.h — the module's slot configuration (see config.cc for the file format).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "token.h"

namespace hsm::p11 {

struct SlotConfig {
  std::string dir;  // a token directory, or "memory"
  CK_SLOT_ID id = 0;  // id=N, or the line's place among the slot lines (1, 2, ...): fixed across cycles
  std::string profile = "pkcs11";
  std::string label = "sealhsm";
  bool create = false;
  bool full_sync = true;        // sync=full|normal (SQLite synchronous)
  int max_failed_logins = -1;   // lockout=N (0 never locks); -1 = the profile's
  std::string generation_mirror;  // mirror=<file>: a second generation mark, on another mount
  std::optional<SecureBytes> unseal;
  std::vector<User> users;  // users=<file>: a memory slot's provisioned users
};

std::vector<SlotConfig> LoadConfig();  // CKR_GENERAL_ERROR (logged) when the file is wrong
std::shared_ptr<Token> MakeToken(SlotConfig& c);

}  // namespace hsm::p11
