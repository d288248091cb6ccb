// native/core/users.cc
#include "users.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include <cctype>

#include "ossl.h"

namespace hsm {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kUnactivatedAdmin: return "unactivated-admin";
    case Role::kAdmin: return "admin";
    case Role::kCryptoUser: return "crypto-user";
  }
  return "unknown";
}

Role RoleFromName(const std::string& name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "crypto-user") return Role::kCryptoUser;
  Fail(CKR_ARGUMENTS_BAD, "role must be 'admin' or 'crypto-user'");
}

namespace {

Bytes Scrypt(ByteView password, ByteView salt, uint64_t n, uint32_t r, uint32_t p) {
  ossl::KdfCtx ctx(ossl::Check(EVP_KDF_CTX_new(ossl::Kdf("SCRYPT")), "EVP_KDF_CTX_new"));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<uint8_t*>(password.data), password.size),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data), salt.size),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_end()};
  Bytes out(64);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) ossl::Raise(CKR_GENERAL_ERROR, "scrypt");
  return out;
}

}  // namespace

PasswordVerifier MakeVerifier(ByteView password, SecureBytes* kek, uint64_t n) {
  PasswordVerifier v;
  v.salt = ossl::RandomBytes(16);
  v.n = n;
  v.r = 8;
  v.p = 1;
  Bytes out = Scrypt(password, v.salt, v.n, v.r, v.p);
  v.hash.assign(out.begin(), out.begin() + 32);
  if (kek != nullptr) *kek = SecureBytes(ByteView(out.data() + 32, 32));
  return v;
}

bool CheckVerifier(const PasswordVerifier& v, ByteView password, SecureBytes* kek) {
  if (v.hash.size() != 32 || v.n < 2 || v.n > (1u << 22) || v.r == 0 || v.r > 32 || v.p == 0 || v.p > 16) return false;
  Bytes out = Scrypt(password, v.salt, v.n, v.r, v.p);
  bool ok = CRYPTO_memcmp(out.data(), v.hash.data(), 32) == 0;
  if (ok && kek != nullptr) *kek = SecureBytes(ByteView(out.data() + 32, 32));
  return ok;
}

const PasswordVerifier& DummyVerifier() {
  static const PasswordVerifier* dummy = [] {
    Bytes password = ossl::RandomBytes(24);
    return new PasswordVerifier(MakeVerifier(password));
  }();
  return *dummy;
}

UserDb::UserDb(const Profile& p, int max_failed_logins)
    : profile_(p), max_failed_logins_(max_failed_logins < 0 ? p.max_failed_logins : max_failed_logins) {
  User admin;
  admin.name = p.admin_name;
  admin.role = Role::kUnactivatedAdmin;
  users_.emplace(admin.name, std::move(admin));
}

bool UserDb::TryNormalize(const std::string& name, std::string* out) const {
  try {
    *out = NormalizeName(name);
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::string UserDb::NormalizeName(const std::string& name) const {
  if (name.empty() || name.size() > 31) Fail(CKR_ARGUMENTS_BAD, "a user name is 1..31 characters");
  std::string out;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') Fail(CKR_ARGUMENTS_BAD, "a user name has only letters, digits and '_'");
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

void UserDb::CheckPassword(ByteView password) const {
  if (password.size < profile_.min_password || password.size > profile_.max_password) {
    Fail(CKR_PIN_LEN_RANGE, "a password is " + std::to_string(profile_.min_password) + ".." + std::to_string(profile_.max_password) + " characters");
  }
}

bool UserDb::Activated() const {
  auto it = users_.find(profile_.admin_name);
  return it == users_.end() || it->second.role != Role::kUnactivatedAdmin;
}

void UserDb::Activate(ByteView password, SecureBytes* kek) {
  auto it = users_.find(profile_.admin_name);
  if (it == users_.end() || it->second.role != Role::kUnactivatedAdmin) Fail(CKR_ACTION_PROHIBITED, "already activated");
  CheckPassword(password);
  it->second.verifier = MakeVerifier(password, kek);
  it->second.role = Role::kAdmin;
}

void UserDb::Create(const std::string& raw_name, ByteView password, Role role, SecureBytes* kek) {
  std::string name = NormalizeName(raw_name);
  if (users_.count(name)) Fail(CKR_ARGUMENTS_BAD, "user '" + name + "' already exists");
  if (profile_.only_crypto_user != nullptr && (role != Role::kCryptoUser || name != profile_.only_crypto_user)) {
    Fail(CKR_ARGUMENTS_BAD, std::string("this profile has one normal user, '") + profile_.only_crypto_user + "'");
  }
  if (users_.size() >= profile_.max_users) Fail(CKR_DEVICE_MEMORY, "the user quota (" + std::to_string(profile_.max_users) + ") is reached");
  CheckPassword(password);
  User u;
  u.name = name;
  u.role = role;
  u.verifier = MakeVerifier(password, kek);
  users_.emplace(name, std::move(u));
}

void UserDb::Delete(const std::string& raw_name) {
  std::string name = NormalizeName(raw_name);
  if (name == profile_.admin_name && profile_.only_crypto_user != nullptr) Fail(CKR_ACTION_PROHIBITED, "the SO cannot be deleted");
  if (users_.erase(name) == 0) Fail(CKR_ARGUMENTS_BAD, "no user '" + name + "'");
}

void UserDb::ChangePassword(const std::string& raw_name, ByteView password, SecureBytes* kek) {
  std::string name = NormalizeName(raw_name);
  auto it = users_.find(name);
  if (it == users_.end()) Fail(CKR_ARGUMENTS_BAD, "no user '" + name + "'");
  CheckPassword(password);
  it->second.verifier = MakeVerifier(password, kek);
  it->second.failures = 0;
}

User* UserDb::FindMutable(const std::string& name) {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

void UserDb::Replace(std::vector<User> users) {
  users_.clear();
  for (User& u : users) users_.emplace(u.name, std::move(u));
  if (users_.empty()) {  // a fresh token: the unactivated admin
    User admin;
    admin.name = profile_.admin_name;
    admin.role = Role::kUnactivatedAdmin;
    users_.emplace(admin.name, std::move(admin));
  }
}

std::vector<User> UserDb::All() const {
  std::vector<User> out;
  for (const auto& [name, u] : users_) out.push_back(u);
  return out;
}

const User* UserDb::Find(const std::string& name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

std::vector<UserView> UserDb::List() const {
  std::vector<UserView> out;
  for (const auto& [name, u] : users_) out.push_back({name, u.role, Locked(u), u.failures});
  return out;
}

}  // namespace hsm
