// native/addon/lifecycle.cc
// Tokens, sessions and the static tables (mechanisms, profiles, return codes). Synchronous: each is
// a map lookup, cheaper than a thread-pool hop.
#include "library.h"
#include "ops.h"
#include "task.h"

namespace hsm::addon {

namespace {

// An optional lockout (failed logins before a user locks; 0 never; absent: the profile's).
int LockoutArg(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return -1;
  CK_ULONG n = ToUlong(v, "maxFailedLogins");
  if (n > 1000) throw Napi::RangeError::New(v.Env(), "maxFailedLogins must be 0..1000");
  return static_cast<int>(n);
}

// createToken(profile, label, maxFailedLogins?): a token in memory.
Napi::Value CreateToken(const Napi::CallbackInfo& info) {
  std::string profile = ToString(info[0], "profile");
  std::string label = ToString(info[1], "label");
  int lockout = LockoutArg(info[2]);
  return RunSync(info.Env(), [&] {
    auto token = std::make_shared<Token>(ProfileByName(profile), label, lockout);
    return FromUlong(info.Env(), Library::Instance().AddToken(std::move(token)));
  });
}

// openToken(dir, create, profile, label, unsealKey | null, fullSync, maxFailedLogins?, generationMirror?):
// a persistent token directory.
Napi::Value OpenToken(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    std::string dir = ToString(a[0], "dir");
    bool create = ToBool(a[1], "create");
    std::string profile = ToString(a[2], "profile");
    std::string label = ToString(a[3], "label");
    std::shared_ptr<SecureBytes> unseal;
    if (!a[4].IsNull() && !a[4].IsUndefined()) unseal = std::make_shared<SecureBytes>(ToSecret(a[4], "unsealKey"));
    bool full_sync = a[5].IsUndefined() ? true : ToBool(a[5], "fullSync");
    int lockout = LockoutArg(a[6]);
    std::string mirror = a[7].IsUndefined() || a[7].IsNull() ? std::string() : ToString(a[7], "generationMirror");
    return [dir, create, profile, label, unseal, full_sync, lockout, mirror]() -> Result {
      // An empty profile: the token's own (or 'cloudhsm' for a new one). A bad name fails before
      // anything touches the disk.
      std::string wanted = profile.empty() ? "cloudhsm" : profile;
      (void)ProfileByName(wanted);
      auto store = TokenStore::Open(dir, {create, wanted, label, full_sync, lockout, mirror});
      if (!profile.empty() && store->profile() != profile) {
        Fail(CKR_ARGUMENTS_BAD, dir + " was created with the '" + store->profile() + "' profile, not '" + profile + "'");
      }
      const Profile& p = ProfileByName(store->profile());
      std::optional<SecureBytes> key;
      if (unseal) key = unseal->CloneSecret();
      auto token = std::make_shared<Token>(p, std::move(store), std::move(key));
      return static_cast<CK_ULONG>(Library::Instance().AddToken(std::move(token)));
    };
  });
}

// migrateToken(dir, users: string[], passwords: (string | Uint8Array)[]): a format-2 token rewritten
// as format 3 (Token::Migrate), the old one kept as <dir>.format2.
Napi::Value MigrateToken(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    std::string dir = ToString(a[0], "dir");
    if (!a[1].IsArray() || !a[2].IsArray()) throw Napi::TypeError::New(a.Env(), "migrateToken(dir, users, passwords)");
    auto users = a[1].As<Napi::Array>();
    auto pws = a[2].As<Napi::Array>();
    if (users.Length() != pws.Length()) throw Napi::TypeError::New(a.Env(), "one password per user");
    auto passwords = std::make_shared<std::map<std::string, SecureBytes>>();
    for (uint32_t i = 0; i < users.Length(); i++) {
      std::string name = ToString(users.Get(i), "user");
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      (*passwords)[name] = ToSecret(pws.Get(i), "password");
    }
    return [dir, passwords]() -> Result {
      (void)Token::Migrate(dir, *passwords);  // the old token is kept as <dir>.format2
      return std::monostate{};
    };
  });
}

Napi::Value BackupToken(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SLOT_ID slot = ToUlong(a[0], "slot");
    std::string dest = ToString(a[1], "destination");
    return [slot, dest]() -> Result {
      Library::Instance().TokenAt(slot)->Backup(dest);
      return std::monostate{};
    };
  });
}

Napi::Value RemoveToken(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  return RunSync(info.Env(), [&] {
    Library::Instance().RemoveToken(slot);
    return info.Env().Undefined();
  });
}

Napi::Value OpenSession(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  bool rw = ToBool(info[1], "readWrite");
  return RunSync(info.Env(), [&] {
    CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    return FromUlong(info.Env(), Library::Instance().OpenSession(slot, flags));
  });
}

Napi::Value CloseSession(const Napi::CallbackInfo& info) {
  CK_SESSION_HANDLE h = ToUlong(info[0], "session");
  return RunSync(info.Env(), [&] {
    Library::Instance().CloseSession(h);
    return info.Env().Undefined();
  });
}

Napi::Value TokenInfo(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  return RunSync(info.Env(), [&] {
    auto token = Library::Instance().TokenAt(slot);
    auto o = Napi::Object::New(info.Env());
    o.Set("label", token->label());
    o.Set("profile", token->profile().name);
    o.Set("persistent", token->Persistent());
    o.Set("objects", FromUlong(info.Env(), token->ObjectCount()));
    o.Set("sessions", FromUlong(info.Env(), Library::Instance().SessionCount(slot)));
    SecureMemoryStats mem = SecureMemory();  // the process's key memory (every token's)
    auto km = Napi::Object::New(info.Env());
    km.Set("lockedBytes", FromUlong(info.Env(), mem.locked_bytes));
    km.Set("unlockedBytes", FromUlong(info.Env(), mem.unlocked_bytes));
    km.Set("inUseBytes", FromUlong(info.Env(), mem.in_use_bytes));
    o.Set("keyMemory", km);
    return o;
  });
}

// ---- users and login: the token's, for the whole application (CloudHSM §2, PKCS#11 C_Login)

// claimService(slot, name) / releaseService(slot, name): Token::ClaimService / ReleaseService.
template <void (Token::*Method)(const std::string&)>
Napi::Value ServiceClaim(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  std::string name = ToString(info[1], "name");
  return RunSync(info.Env(), [&] {
    (Library::Instance().TokenAt(slot).get()->*Method)(name);
    return info.Env().Undefined();
  });
}

Napi::Value Activate(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SLOT_ID slot = ToUlong(a[0], "slot");
    auto pw = std::make_shared<SecureBytes>(ToSecret(a[1], "password"));
    return [slot, pw]() -> Result {
      Library::Instance().TokenAt(slot)->Activate(pw->view());
      return std::monostate{};
    };
  });
}

// (slot, user, password) calls that check a password: Login, AcceptRollback (the admin accepts an
// older token), UnlockUser (a locked user proven offline). The password goes into locked memory
// before the call is queued; the check (scrypt) runs on the pool.
template <void (Token::*Method)(const std::string&, ByteView)>
Napi::Value QueueUserPassword(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SLOT_ID slot = ToUlong(a[0], "slot");
    std::string user = ToString(a[1], "user");
    auto pw = std::make_shared<SecureBytes>(ToSecret(a[2], "password"));
    return [slot, user, pw]() -> Result {
      (Library::Instance().TokenAt(slot).get()->*Method)(user, pw->view());
      return std::monostate{};
    };
  });
}

Napi::Value Logout(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  return RunSync(info.Env(), [&] {
    Library::Instance().TokenAt(slot)->Logout();
    return info.Env().Undefined();
  });
}

Napi::Value LoginState(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  return RunSync(info.Env(), [&]() -> Napi::Value {
    auto token = Library::Instance().TokenAt(slot);
    auto who = token->WhoIsLoggedIn();
    auto o = Napi::Object::New(info.Env());
    o.Set("activated", token->Activated());
    o.Set("user", who ? Napi::Value(Napi::String::New(info.Env(), who->user)) : info.Env().Null());
    o.Set("role", who ? Napi::Value(Napi::String::New(info.Env(), RoleName(who->role))) : info.Env().Null());
    return o;
  });
}

Napi::Value CreateUser(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SLOT_ID slot = ToUlong(a[0], "slot");
    std::string user = ToString(a[1], "user");
    auto pw = std::make_shared<SecureBytes>(ToSecret(a[2], "password"));
    std::string role = ToString(a[3], "role");
    return [slot, user, pw, role]() -> Result {
      Library::Instance().TokenAt(slot)->CreateUser(user, pw->view(), RoleFromName(role));
      return std::monostate{};
    };
  });
}

Napi::Value DeleteUser(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SLOT_ID slot = ToUlong(a[0], "slot");
    std::string user = ToString(a[1], "user");
    return [slot, user]() -> Result {
      Library::Instance().TokenAt(slot)->DeleteUser(user);
      return std::monostate{};
    };
  });
}

Napi::Value ChangePassword(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SLOT_ID slot = ToUlong(a[0], "slot");
    std::string user = ToString(a[1], "user");
    auto pw = std::make_shared<SecureBytes>(ToSecret(a[2], "password"));
    bool discard_keys = a.Length() > 3 && a[3].IsBoolean() && a[3].As<Napi::Boolean>().Value();
    return [slot, user, pw, discard_keys]() -> Result {
      Library::Instance().TokenAt(slot)->ChangePassword(user, pw->view(), discard_keys);
      return std::monostate{};
    };
  });
}

Napi::Value ListUsers(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  return RunSync(info.Env(), [&]() -> Napi::Value {
    auto users = Library::Instance().TokenAt(slot)->ListUsers();
    auto arr = Napi::Array::New(info.Env(), users.size());
    for (uint32_t i = 0; i < users.size(); ++i) {
      auto o = Napi::Object::New(info.Env());
      o.Set("user", users[i].name);
      o.Set("role", RoleName(users[i].role));
      o.Set("locked", users[i].locked);
      arr.Set(i, o);
    }
    return arr;
  });
}

Napi::Value Mechanisms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& all = AllMechanisms();
  auto arr = Napi::Array::New(env, all.size());
  for (uint32_t i = 0; i < all.size(); ++i) {
    auto o = Napi::Object::New(env);
    o.Set("type", FromUlong(env, all[i].type));
    o.Set("name", all[i].name);
    o.Set("flags", FromUlong(env, all[i].flags));
    o.Set("minKeySize", FromUlong(env, all[i].min_key));
    o.Set("maxKeySize", FromUlong(env, all[i].max_key));
    o.Set("multipart", all[i].multipart);
    auto profiles = Napi::Array::New(env);
    uint32_t n = 0;
    for (const Profile& p : AllProfiles()) {
      if (OfferedIn(all[i], p.families)) profiles.Set(n++, p.name);
    }
    o.Set("profiles", profiles);
    arr.Set(i, o);
  }
  return arr;
}

Napi::Value Profiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& all = AllProfiles();
  auto arr = Napi::Array::New(env, all.size());
  for (uint32_t i = 0; i < all.size(); ++i) {
    auto o = Napi::Object::New(env);
    o.Set("name", all[i].name);
    o.Set("description", all[i].description);
    arr.Set(i, o);
  }
  return arr;
}

Napi::Value ReturnCodes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  ForEachRv([&](const char* name, CK_RV rv) { o.Set(name, FromUlong(env, rv)); });
  return o;
}

}  // namespace

void InitLifecycle(Napi::Env env, Napi::Object e) {
  e.Set("createToken", Napi::Function::New(env, CreateToken, "createToken"));
  e.Set("removeToken", Napi::Function::New(env, RemoveToken, "removeToken"));
  e.Set("openToken", Napi::Function::New(env, OpenToken, "openToken"));
  e.Set("backupToken", Napi::Function::New(env, BackupToken, "backupToken"));
  e.Set("claimService", Napi::Function::New(env, ServiceClaim<&Token::ClaimService>, "claimService"));
  e.Set("releaseService", Napi::Function::New(env, ServiceClaim<&Token::ReleaseService>, "releaseService"));
  e.Set("openSession", Napi::Function::New(env, OpenSession, "openSession"));
  e.Set("closeSession", Napi::Function::New(env, CloseSession, "closeSession"));
  e.Set("tokenInfo", Napi::Function::New(env, TokenInfo, "tokenInfo"));
  e.Set("activate", Napi::Function::New(env, Activate, "activate"));
  e.Set("login", Napi::Function::New(env, QueueUserPassword<&Token::Login>, "login"));
  e.Set("logout", Napi::Function::New(env, Logout, "logout"));
  e.Set("migrateToken", Napi::Function::New(env, MigrateToken, "migrateToken"));
  e.Set("acceptRollback", Napi::Function::New(env, QueueUserPassword<&Token::AcceptRollback>, "acceptRollback"));
  e.Set("unlockUser", Napi::Function::New(env, QueueUserPassword<&Token::UnlockUser>, "unlockUser"));
  e.Set("loginState", Napi::Function::New(env, LoginState, "loginState"));
  e.Set("createUser", Napi::Function::New(env, CreateUser, "createUser"));
  e.Set("deleteUser", Napi::Function::New(env, DeleteUser, "deleteUser"));
  e.Set("changePassword", Napi::Function::New(env, ChangePassword, "changePassword"));
  e.Set("listUsers", Napi::Function::New(env, ListUsers, "listUsers"));
  e.Set("mechanisms", Napi::Function::New(env, Mechanisms, "mechanisms"));
  e.Set("profiles", Napi::Function::New(env, Profiles, "profiles"));
  e.Set("returnCodes", Napi::Function::New(env, ReturnCodes, "returnCodes"));
}

}  // namespace hsm::addon
