// native/pkcs11/config.cc
//
// Which tokens the module shows as slots. SEALHSM_PKCS11_CONF names a small text file:
//
//   # one slot per line, in slot order
//   slot /var/lib/sealhsm/app   profile=pkcs11 label=app create=true unseal=/etc/sealhsm/app.key
//   slot memory                 profile=cloudhsm label=scratch
//   (sync=full|normal: SQLite's synchronous setting, full by default; lockout=N: failed logins
//   before a PIN locks, 0 never, the profile's by default; mirror=<file>: a second copy of the
//   token's generation mark, on another mount, so a rolled-back token.db stays refused)
//
// `memory` is a token that lives as long as the module is initialized. Without the variable the
// module shows one memory token with the pkcs11 profile. Errors name the file and line.
#include <fstream>
#include <sstream>

#include "config.h"
#include "door.h"
#include "store/token_store.h"

namespace hsm::p11 {

namespace {

[[noreturn]] void Bad(const std::string& where, const std::string& what) {
  Log(where + ": " + what);
  Fail(CKR_GENERAL_ERROR, where + ": " + what);
}

Bytes FromHex(const std::string& where, const std::string& hex) {
  if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) Bad(where, "expected hex digits");  // never echoed: it may be a key
  Bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// A provisioning file (pkcs11Provisioning() writes one): per line
//   <name> <admin|crypto-user> scrypt <N> <r> <p> <salt hex> <verifier hex>
// where the verifier is the first 32 bytes of scrypt(password, salt, N, r, p, 64). No passwords.
std::vector<User> ReadUsersFile(const std::string& where, const std::string& path) {
  std::ifstream in(path);
  if (!in) Bad(where, "cannot read users file " + path);
  std::vector<User> users;
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    std::string at = path + ":" + std::to_string(n);
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string name, role, kdf, salt, verifier;
    uint64_t cost = 0;
    uint32_t r = 0, p = 0;
    if (!(words >> name)) continue;
    if (!(words >> role >> kdf >> cost >> r >> p >> salt >> verifier) || kdf != "scrypt") {
      Bad(at, "expected: <name> <admin|crypto-user> scrypt <N> <r> <p> <salt hex> <verifier hex>");
    }
    User u;
    u.name = name;
    if (role == "admin") {
      u.role = Role::kAdmin;
    } else if (role == "crypto-user") {
      u.role = Role::kCryptoUser;
    } else {
      Bad(at, "the role is 'admin' or 'crypto-user'");
    }
    u.verifier = {FromHex(at, salt), cost, r, p, FromHex(at, verifier)};
    users.push_back(std::move(u));
  }
  if (users.empty()) Bad(where, path + " names no users");
  return users;
}

SecureBytes ReadKeyFile(const std::string& where, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Bad(where, "cannot read unseal key file " + path);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r' || raw.back() == ' ')) raw.pop_back();
  Bytes key = raw.size() == 64 ? FromHex(where, raw) : Bytes(raw.begin(), raw.end());
  if (key.size() != 32) Bad(where, "an unseal key is 32 bytes or 64 hex characters");
  SecureBytes out(ByteView{key});
  WipeMemory(raw.data(), raw.size());
  return out;
}

}  // namespace

std::vector<SlotConfig> LoadConfig() {
  const char* path = std::getenv("SEALHSM_PKCS11_CONF");
  if (path == nullptr || *path == '\0') {
    std::vector<SlotConfig> one(1);  // a single memory token with the pkcs11 profile
    one[0].dir = "memory";
    return one;
  }
  std::ifstream in(path);
  if (!in) Bad(path, "cannot open the configuration file (SEALHSM_PKCS11_CONF)");
  std::vector<SlotConfig> slots;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::string where = std::string(path) + ":" + std::to_string(n);
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string verb;
    if (!(words >> verb)) continue;
    if (verb != "slot") Bad(where, "unknown directive '" + verb + "' (expected 'slot')");
    SlotConfig c;
    if (!(words >> c.dir)) Bad(where, "'slot' needs a token directory or 'memory'");
    std::string opt;
    while (words >> opt) {
      auto eq = opt.find('=');
      if (eq == std::string::npos) Bad(where, "option '" + opt + "' must be name=value");
      std::string k = opt.substr(0, eq), v = opt.substr(eq + 1);
      if (k == "profile") {
        try {
          (void)ProfileByName(v);
        } catch (const Error& e) {
          Bad(where, e.what());
        }
        c.profile = v;
      } else if (k == "label") {
        c.label = v;
      } else if (k == "create") {
        c.create = v == "true";
      } else if (k == "unseal") {
        c.unseal = ReadKeyFile(where, v);
      } else if (k == "users") {
        c.users = ReadUsersFile(where, v);
      } else if (k == "id") {
        if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos || std::stoul(v) == 0) Bad(where, "id is a slot number from 1");
        c.id = std::stoul(v);
      } else if (k == "sync") {
        if (v != "full" && v != "normal") Bad(where, "sync is 'full' or 'normal'");
        c.full_sync = v == "full";
      } else if (k == "lockout") {
        if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos) Bad(where, "lockout is a number of failed logins (0 never locks)");
        c.max_failed_logins = std::stoi(v);
      } else if (k == "mirror") {
        if (v.empty()) Bad(where, "mirror is the path of a file on another mount");
        c.generation_mirror = v;
      } else {
        Bad(where, "unknown option '" + k + "' (profile, label, create, unseal, sync, lockout, mirror, id, users)");
      }
    }
    if (c.id == 0) c.id = slots.size() + 1;
    for (const SlotConfig& other : slots) {
      if (other.id == c.id) Bad(where, "slot id " + std::to_string(c.id) + " is used twice");
    }
    slots.push_back(std::move(c));
  }
  if (slots.empty()) Bad(path, "no 'slot' lines");
  return slots;
}

std::shared_ptr<Token> MakeToken(SlotConfig& c) {
  if (c.dir == "memory") {
    auto token = std::make_shared<Token>(ProfileByName(c.profile), c.label, c.max_failed_logins);
    if (!c.users.empty()) token->Provision(std::move(c.users));
    return token;
  }
  if (!c.users.empty()) Fail(CKR_ARGUMENTS_BAD, c.dir + ": users= is for memory slots; a token directory keeps its own users");
  auto store = TokenStore::Open(c.dir, {c.create, c.profile, c.label, c.full_sync, c.max_failed_logins, c.generation_mirror});
  std::optional<SecureBytes> key;
  if (c.unseal) key = c.unseal->CloneSecret();
  return std::make_shared<Token>(ProfileByName(store->profile()), std::move(store), std::move(key));
}

}  // namespace hsm::p11
