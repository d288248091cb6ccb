// native/core/token_users.cc
//
// Users and login of a token (PKCS#11 v3.0 §5.6 C_Login / C_Logout, §5.5 C_InitToken / C_InitPIN /
// C_SetPIN; CloudHSM §2: activation, admins and crypto users, app-wide login, 5-strike lockout).
// A login counts the attempt before its verdict and costs the same whether the user exists, is
// locked or not. On a persistent token one password check runs at a time across processes, the
// password is proven by opening the user's own wrap of its keys (token_user_keys.cc), and the token
// state is then verified with them. No N-API or C ABI here.
#include <openssl/crypto.h>

#include <optional>

#include "store/file_lock.h"
#include "store/operator_log.h"
#include "store/seal.h"
#include "token.h"
#include "token_formats.h"

namespace hsm {

namespace {

void RequireAdmin(const std::optional<LoginState>& login) {
  if (!login) Fail(CKR_USER_NOT_LOGGED_IN, "log in as an admin to manage users");
  if (login->role != Role::kAdmin) Fail(CKR_USER_TYPE_INVALID, "only admins manage users");
}

}  // namespace

std::optional<LoginState> Token::Caller() const {
  std::lock_guard lock(auth_mu_);
  return login_;
}

std::optional<LoginState> Token::WhoIsLoggedIn() const { return Caller(); }

bool Token::Activated() const {
  Refresh();
  std::lock_guard lock(auth_mu_);
  return users_.Activated();
}

// ---------------------------------------------------------------- the login check

int Token::CountAttempt(const std::string& name) {
  if (store_) return store_->RecordLoginAttempt(name);
  if (User* u = name.empty() ? nullptr : users_.FindMutable(name)) return u->failures++;
  return unknown_failures_++;
}

void Token::ClearAttempts(const std::string& name) {
  if (User* u = users_.FindMutable(name)) u->failures = 0;
  if (store_) store_->ClearLoginFailures(name);
}

std::string Token::CheckPassword(const std::string& raw, ByteView password, SecureBytes* kek, Role* role) {
  std::string name;
  const User* u = users_.TryNormalize(raw, &name) ? users_.Find(name) : nullptr;
  if (u != nullptr && u->role == Role::kUnactivatedAdmin) Fail(CKR_USER_PIN_NOT_INITIALIZED, "the cluster is not activated");
  // One password check at a time across every process using a persistent token, from counting the
  // attempt to its verdict (as Login's auth_mu_ does within a process): logins at once queue, where
  // they used to read each other's attempts in flight as failures and refuse the right password.
  std::optional<FileLock> one_at_a_time;
  if (store_) one_at_a_time.emplace(store_->LoginLockPath());
  // Counted before the verdict, in one write transaction for persistent tokens, so a process killed
  // before its verdict is known still spent a try.
  int before = CountAttempt(u != nullptr ? name : std::string());
  int max = users_.max_failed_logins();
  bool locked = u != nullptr && max > 0 && before > max;
  const PasswordVerifier& verifier = u != nullptr && !locked ? u->verifier : DummyVerifier();
  SecureBytes key;
  bool ok = CheckVerifier(verifier, password, &key) && u != nullptr && !locked;
  if (!ok) {
    if (u != nullptr) users_.FindMutable(name)->failures = before + 1;
    if (profile_.login_hides_lock) Fail(CKR_PIN_INCORRECT, "wrong user name or password, or the user is locked (an admin unlocks it by changing its password)");
    if (locked) Fail(CKR_PIN_LOCKED, "the " + name + " PIN is locked after too many failed logins");
    Fail(CKR_PIN_INCORRECT, "wrong PIN");
  }
  ClearAttempts(name);
  *kek = std::move(key);
  *role = u->role;
  return name;
}

Token::PinState Token::PinStatus(const std::string& user) const {
  Refresh();
  std::lock_guard lock(auth_mu_);
  PinState st;
  st.max_failed_logins = users_.max_failed_logins();
  if (const User* u = users_.Find(user)) {
    st.failures = u->failures;
    st.locked = users_.Locked(*u);
  }
  return st;
}

// ---------------------------------------------------------------- activation, login, logout

void Token::Activate(ByteView password) {
  Refresh();
  std::lock_guard lock(auth_mu_);
  SecureBytes kek;
  users_.Activate(password, &kek);
  if (!store_) return;
  ActivateStore(kek);
}

void Token::ActivateStore(const SecureBytes& kek, const std::string* label) {
  try {
    if (master_.empty()) {
      master_ = SecureBytes(32);
      ossl::RandomInto(master_.data(), master_.size());
    }
    UnlockStore();  // a fresh token: its first manifest, signed with the new state key
    // The token's admin key: made here, held by every admin, it certifies each user's public keys.
    userkeys::SigningPair admin = userkeys::NewSigningPair();
    store_->SetAdminPublic(admin.public_key);
    admin_public_ = admin.public_key;
    User* u = users_.FindMutable(profile_.admin_name);
    Secrets keys = NewUserKeys(*u, kek, admin.seed.view(), /*holds_admin_key=*/true);
    store_->PutUser(*u, &keys->mac_key);
    if (label != nullptr) store_->SetLabel(*label);  // in the signed header
  } catch (...) {
    users_.Replace(store_->Users());
    CloseMaster();
    throw;
  }
  CloseMaster();  // open again at the next login
}

void Token::Login(const std::string& user, ByteView password) {
  Refresh();
  std::lock_guard lock(auth_mu_);
  if (login_) Fail(CKR_USER_ALREADY_LOGGED_IN, "'" + login_->user + "' is already logged in for this application");
  SecureBytes kek;
  Role role;
  std::string name = CheckPassword(user, password, &kek, &role);
  if (store_) {
    me_ = ProveAndUnlock(name, kek);
    store_->SetWriter(name, &me_->mac_key);
  }
  login_ = LoginState{name, role};
  if (!store_) return;
  SaveUnsealWrap();
  std::unique_lock objects(mu_);
  DropCachedTokenObjects();  // read before the login, without this user's keys: read again with them
}

void Token::AcceptRollback(const std::string& user, ByteView password) {
  if (!store_) Fail(CKR_FUNCTION_NOT_SUPPORTED, "a memory token has no older state to accept");
  Refresh();
  std::lock_guard lock(auth_mu_);
  if (login_ || !master_.empty()) Fail(CKR_USER_ALREADY_LOGGED_IN, "accept a rollback from a process where nobody is logged in (and without an unseal key)");
  SecureBytes kek;
  Role role;
  std::string name = CheckPassword(user, password, &kek, &role);
  // An admin accepts the token's older state and its own objects'; any other user, its own objects'
  // (nobody else can: each user's state is signed with that user's key).
  ProveAndUnlock(name, kek, role == Role::kAdmin ? &name : nullptr, &name);
  CloseMaster();
}

void Token::UnlockUser(const std::string& raw, ByteView password) {
  if (!store_) Fail(CKR_FUNCTION_NOT_SUPPORTED, "a memory token's lockout ends with its process");
  Refresh();
  std::lock_guard lock(auth_mu_);
  std::string name;
  const User* u = users_.TryNormalize(raw, &name) ? users_.Find(name) : nullptr;
  if (u == nullptr || u->role == Role::kUnactivatedAdmin) Fail(CKR_ARGUMENTS_BAD, "no user '" + raw + "' to unlock");
  FileLock one_at_a_time(store_->LoginLockPath());
  int before = CountAttempt(name);
  SecureBytes kek;
  if (!CheckVerifier(u->verifier, password, &kek)) {
    users_.FindMutable(name)->failures = before + 1;
    Fail(CKR_PIN_INCORRECT, "wrong password for '" + name + "'");
  }
  // The password must also open the user's own wrap (a verifier edited on disk proves nothing).
  std::string who = "user '" + name + "'";
  (void)seal::Open(kek.view(), formats::KeysAad(store_->token_id(), store_->profile(), *u, store_->AdminPublic()), u->keys_wrap, who);
  AppendOperatorLog(store_->dir(), name + " unlocked offline after " + std::to_string(before) + " failed logins");
  ClearAttempts(name);
}

void Token::Logout() {
  {
    std::lock_guard lock(auth_mu_);
    if (!login_) Fail(CKR_USER_NOT_LOGGED_IN, "nobody is logged in");
    login_.reset();
    if (!store_) return;
    CloseMaster();  // the user's keys are wiped (the unseal key's user's stay); so are objects it opened
  }
  std::unique_lock lock(mu_);
  DropCachedTokenObjects();
}

// ---------------------------------------------------------------- user management

void Token::CreateUser(const std::string& user, ByteView password, Role role) {
  std::lock_guard lock(auth_mu_);
  RequireAdmin(login_);
  SecureBytes kek;
  users_.Create(user, password, role, &kek);
  std::string name = users_.NormalizeName(user);
  if (!store_) return;
  try {
    User* u = users_.FindMutable(name);
    Secrets keys = NewUserKeys(*u, kek, me_ ? me_->admin_private.view() : ByteView(), role == Role::kAdmin);
    store_->PutUser(*u, &keys->mac_key);
  } catch (...) {
    users_.Delete(name);
    throw;
  }
}

void Token::DeleteUser(const std::string& raw) {
  std::lock_guard lock(auth_mu_);
  RequireAdmin(login_);
  std::string name = users_.NormalizeName(raw);
  if (name == login_->user) Fail(CKR_ACTION_PROHIBITED, "'" + name + "' is logged in");
  std::vector<StoredObject> rows = store_ ? store_->Find({}) : std::vector<StoredObject>{};
  {
    std::shared_lock objects(mu_);
    for (const auto& [h, o] : objects_) {
      if (o->owner == name) Fail(CKR_ACTION_PROHIBITED, "'" + name + "' owns keys; delete or hand them over first");
    }
    for (const auto& r : rows) {
      if (r.owner == name) Fail(CKR_ACTION_PROHIBITED, "'" + name + "' owns keys; delete or hand them over first");
    }
  }
  if (users_.Find(name) == nullptr) Fail(CKR_ARGUMENTS_BAD, "no user '" + name + "'");
  if (store_) {
    store_->DeleteUser(name);
    store_->DropShares(name);  // the holders' signatures stand: shares are not signed
  }
  users_.Delete(name);
  std::unique_lock objects(mu_);  // the user's shares go with it
  for (auto& [h, o] : objects_) {
    if (o->shared_with.count(name)) {
      auto c = hsm::CopyObject(*o);
      c->shared_with.erase(name);
      o = std::move(c);
    }
  }
  DropCachedTokenObjects();
}

void Token::ChangePassword(const std::string& raw, ByteView password, bool discard_keys) {
  std::lock_guard lock(auth_mu_);
  if (!login_) Fail(CKR_USER_NOT_LOGGED_IN, "log in to change a password");
  std::string name = users_.NormalizeName(raw);
  if (login_->role != Role::kAdmin && name != login_->user) Fail(CKR_USER_TYPE_INVALID, "crypto users change only their own password");
  if (users_.Find(name) == nullptr) Fail(CKR_ARGUMENTS_BAD, "no user '" + name + "'");
  if (!store_) {
    SecureBytes kek;
    users_.ChangePassword(name, password, &kek);  // also unlocks
  } else if (name == login_->user) {
    users_.CheckPassword(password);
    SecureBytes kek;
    users_.ChangePassword(name, password, &kek);
    RekeySelf(name, kek, me_);  // a new UK, which the old password never opened
  } else {
    ResetOther(name, password, discard_keys);
    std::unique_lock objects(mu_);
    DropCachedTokenObjects();
  }
  ClearAttempts(name);
}

void Token::Provision(std::vector<User> users) {
  std::lock_guard lock(auth_mu_);
  if (store_) Fail(CKR_ARGUMENTS_BAD, "a token directory is provisioned with its own users (sealhsm or SealHsm), not a users file");
  bool admin = false;
  for (User& u : users) {
    u.name = users_.NormalizeName(u.name);
    if (u.role == Role::kUnactivatedAdmin) Fail(CKR_ARGUMENTS_BAD, "a provisioned user is an admin or a crypto user");
    if (profile_.only_crypto_user != nullptr && u.name != profile_.admin_name && u.name != profile_.only_crypto_user) {
      Fail(CKR_ARGUMENTS_BAD, std::string("this profile has two users, '") + profile_.admin_name + "' and '" + profile_.only_crypto_user + "'");
    }
    if (u.verifier.hash.size() != 32 || u.verifier.salt.size() < 16 || u.verifier.n < 2 || (u.verifier.n & (u.verifier.n - 1)) != 0 ||
        u.verifier.n > (1u << 22) || u.verifier.r == 0 || u.verifier.r > 32 || u.verifier.p == 0 || u.verifier.p > 16) {
      Fail(CKR_ARGUMENTS_BAD, "user '" + u.name + "': the verifier is scrypt's first 32 bytes, with a salt of 16 bytes or more");
    }
    admin = admin || (u.name == profile_.admin_name && u.role == Role::kAdmin);
  }
  if (users.size() > profile_.max_users) Fail(CKR_DEVICE_MEMORY, "more users than the profile's quota");
  if (!admin) Fail(CKR_ARGUMENTS_BAD, std::string("the users file must name the admin, '") + profile_.admin_name + "'");
  users_.Replace(std::move(users));
}

std::vector<UserView> Token::ListUsers() const {
  Refresh();
  std::lock_guard lock(auth_mu_);
  return users_.List();
}

// ---------------------------------------------------------------- PKCS#11 token administration

std::string Token::label() const {
  std::lock_guard lock(auth_mu_);
  return label_;
}

void Token::InitToken(ByteView so_pin, const std::string& label, std::size_t open_sessions) {
  Refresh();
  std::lock_guard lock(auth_mu_);
  std::string new_label = label.empty() ? label_ : label;
  if (!users_.Activated()) {
    SecureBytes kek;
    users_.Activate(so_pin, &kek);
    if (store_) ActivateStore(kek, new_label != label_ ? &new_label : nullptr);
    label_ = new_label;
    return;
  }
  // Re-initialization (PKCS#11 §5.5 C_InitToken): the SO PIN is checked, every object and the
  // normal user go, the label is set. CloudHSM profiles have no C_InitToken (the door refuses).
  if (open_sessions != 0) Fail(CKR_SESSION_EXISTS, "close every session before C_InitToken");
  SecureBytes kek;
  Role role;
  std::string so = CheckPassword(profile_.admin_name, so_pin, &kek, &role);  // CKR_PIN_INCORRECT / _LOCKED
  if (store_) {
    Secrets keys = ProveAndUnlock(so, kek);
    login_.reset();  // no session is open, so nobody is logged in; the keys close below
    try {
      store_->SetWriter(so, &keys->mac_key);
      store_->Reinitialize(so, new_label, keys->mac_key);
    } catch (...) {
      CloseMaster();
      throw;
    }
    users_.Replace(store_->Users());
    CloseMaster();
  } else if (profile_.only_crypto_user != nullptr && users_.Find(profile_.only_crypto_user)) {
    users_.Delete(profile_.only_crypto_user);
  }
  std::unique_lock objects(mu_);
  objects_.clear();
  cache_order_.clear();
  tallied_keys_ = tallied_asymmetric_ = 0;
  login_.reset();
  label_ = new_label;
}

void Token::InitPin(ByteView pin) {
  Refresh();
  std::lock_guard lock(auth_mu_);
  if (!login_ || login_->role != Role::kAdmin) Fail(CKR_USER_NOT_LOGGED_IN, "C_InitPIN needs the SO logged in");
  if (profile_.only_crypto_user == nullptr) Fail(CKR_FUNCTION_NOT_SUPPORTED, "this profile has named users; create them instead");
  std::string user = profile_.only_crypto_user;
  SecureBytes kek;
  if (users_.Find(user)) {
    // The SO unlocks a locked user PIN this way. Without the old PIN nothing opens the user's keys,
    // so the user gets new ones: refused while it holds objects (they would be lost).
    if (store_) {
      ResetOther(user, pin, /*discard_keys=*/false);
    } else {
      users_.ChangePassword(user, pin, &kek);
    }
  } else {
    users_.Create(user, pin, Role::kCryptoUser, &kek);
    if (store_) {
      try {
        User* u = users_.FindMutable(user);
        Secrets keys = NewUserKeys(*u, kek, me_ ? me_->admin_private.view() : ByteView(), false);
        store_->PutUser(*u, &keys->mac_key);
      } catch (...) {
        users_.Delete(user);
        throw;
      }
    }
  }
  ClearAttempts(user);
}

void Token::SetPin(const std::string& user, ByteView old_pin, ByteView new_pin) {
  Refresh();
  std::lock_guard lock(auth_mu_);
  users_.CheckPassword(new_pin);
  SecureBytes kek;
  Role role;
  std::string name = CheckPassword(user, old_pin, &kek, &role);
  if (!store_) {
    users_.ChangePassword(name, new_pin, &kek);
    return;
  }
  // The user's own keys: those of the logged-in user when it is the one, else opened for this call.
  bool mine = login_ && login_->user == name;
  Secrets keys = mine ? me_ : ProveAndUnlock(name, kek);
  try {
    users_.ChangePassword(name, new_pin, &kek);
    RekeySelf(name, kek, keys);
  } catch (...) {
    if (!login_) CloseMaster();
    throw;
  }
  if (!login_) CloseMaster();
}

}  // namespace hsm
