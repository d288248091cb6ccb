// native/core/users.h
//
// The users of a token (CloudHSM §2.1, §2.4; for the pkcs11 profile the SO and the normal user):
// roles, password verifiers (scrypt, compared with CRYPTO_memcmp), failed-login counts and the
// lockout rule. The login check itself is Token's (token_users.cc), which counts an attempt before
// its verdict. Holds no plaintext password after a call returns. Not thread-safe: Token locks it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bytes.h"
#include "profile.h"

namespace hsm {

enum class Role { kUnactivatedAdmin, kAdmin, kCryptoUser };
const char* RoleName(Role r);
Role RoleFromName(const std::string& name);  // "admin" | "crypto-user"; CKR_ARGUMENTS_BAD otherwise

struct PasswordVerifier {
  Bytes salt;
  uint64_t n = 0;
  uint32_t r = 0, p = 0;
  Bytes hash;
};

// scrypt(password, random salt) → 64 bytes: the first 32 are kept as the verifier, the last 32 are
// the user's key-encryption key (never stored; it wraps the user's keys). N = 2^14, r = 8, p = 1.
PasswordVerifier MakeVerifier(ByteView password, SecureBytes* kek = nullptr, uint64_t n = 1u << 14);
bool CheckVerifier(const PasswordVerifier& v, ByteView password, SecureBytes* kek = nullptr);
// A verifier of a random password with the default cost, made once: checking a password against it
// costs what checking a real user's does (no timing difference for unknown or locked users).
const PasswordVerifier& DummyVerifier();

struct User {
  std::string name;
  Role role = Role::kCryptoUser;
  PasswordVerifier verifier;
  int failures = 0;    // failed logins since the last success or password change
  // Persistent tokens (format 3): the state key and the user key (UK), sealed under this user's KEK;
  // the user's public keys (X25519 to share to it, Ed25519 to check the rows it signs), the admin
  // key's certificate of them, and the private halves sealed under a key derived from the UK.
  Bytes keys_wrap;
  Bytes kx_public, sign_public, cert, privates;
  int64_t gen = 0;     // persistent tokens: the generation that wrote the row, and its MAC
  Bytes mac;
};

struct UserView {
  std::string name;
  Role role;
  bool locked;
  int failures;
};

class UserDb {
 public:
  // `max_failed_logins`: more failures than this lock a user; 0 never locks; -1 takes the profile's.
  UserDb(const Profile& p, int max_failed_logins = -1);

  // Names: 1..31 of [A-Za-z0-9_], case-insensitive, kept lower-case. CKR_ARGUMENTS_BAD otherwise.
  std::string NormalizeName(const std::string& name) const;
  bool TryNormalize(const std::string& name, std::string* out) const;
  int max_failed_logins() const { return max_failed_logins_; }
  bool Locked(const User& u) const { return max_failed_logins_ > 0 && u.failures > max_failed_logins_; }
  void CheckPassword(ByteView password) const;  // CKR_PIN_LEN_RANGE

  bool Activated() const;
  // Each of these may hand back the user's key-encryption key (`kek`), for persistent tokens.
  void Activate(ByteView password, SecureBytes* kek = nullptr);
  void Create(const std::string& name, ByteView password, Role role, SecureBytes* kek = nullptr);
  void Delete(const std::string& name);
  void ChangePassword(const std::string& name, ByteView password, SecureBytes* kek = nullptr);  // also unlocks
  const User* Find(const std::string& name) const;
  User* FindMutable(const std::string& name);
  void Replace(std::vector<User> users);  // from storage
  std::vector<User> All() const;
  std::vector<UserView> List() const;
  std::size_t Count() const { return users_.size(); }

 private:
  const Profile& profile_;
  int max_failed_logins_;
  std::map<std::string, User> users_;
};

}  // namespace hsm
