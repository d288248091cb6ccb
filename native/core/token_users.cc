// native/core/token_users.cc
//
// Users and login of a token (PKCS#11 v3.0 §5.6 C_Login / C_Logout, §5.5 C_InitToken / C_InitPIN /
// C_SetPIN; CloudHSM §2: activation, admins and crypto users, app-wide login, 5-strike lockout).
// A login counts the attempt before its verdict and costs the same whether the user exists, is
// locked or not. On a persistent token one password check runs at a time across processes, the
// password is proven by opening the user's own wrap of the master key, and the token state is then
// verified with it. No N-API or C ABI here.
#include <openssl/crypto.h>

#include <optional>

#include "store/file_lock.h"
#include "store/operator_log.h"
#include "store/seal.h"
#include "token.h"

namespace hsm {

namespace {

// The user's wrap of the master key is bound to the token, its profile, the user and the role: a
// user promoted on disk, a profile changed on disk, or a wrap copied to another user does not open.
Bytes UserAad(ByteView token_id, const std::string& profile, const std::string& name, Role role) {
  statemac::Message m("sealhsm user wrap v2");
  m.Add(token_id).Add(profile).Add(name).Add(std::string(RoleName(role)));
  return m.bytes();
}

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

// ---------------------------------------------------------------- the master key (persistent tokens)

void Token::SaveUser(const std::string& name) {
  if (!store_) return;
  if (User* u = users_.FindMutable(name)) store_->PutUser(*u);
}

void Token::WrapMasterFor(const std::string& name, const SecureBytes& kek) {
  if (!store_) return;
  User* u = users_.FindMutable(name);
  if (u == nullptr) return;
  if (master_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "the token's master key is not open");
  u->master_wrap = seal::Seal(kek.view(), UserAad(store_->token_id(), store_->profile(), u->name, u->role), master_.view());
  SaveUnsealWrap();
}

void Token::UnlockStore(const std::string* accept_rollback_by) {
  std::set<std::string> damaged = store_->Unlock(master_.view(), accept_rollback_by);
  damaged_users_ = std::move(damaged);
  SaveUnsealWrap();
}

void Token::ProveAndUnlock(const std::string& name, const SecureBytes& kek, const std::string* accept_rollback_by) {
  if (!store_) return;
  const User* u = users_.Find(name);
  std::string who = "user '" + name + "'";
  if (u == nullptr || u->master_wrap.empty()) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": no master key wrap");
  SecureBytes opened = seal::Open(kek.view(), UserAad(store_->token_id(), store_->profile(), u->name, u->role), u->master_wrap, who);
  if (!master_.empty()) {
    // An unseal key opened the token already: the user's wrap must hold the same master key.
    if (opened.size() != master_.size() || CRYPTO_memcmp(opened.data(), master_.data(), master_.size()) != 0) {
      Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": its wrap holds another token's master key");
    }
  } else {
    master_ = std::move(opened);
    try {
      UnlockStore(accept_rollback_by);
    } catch (...) {
      master_ = SecureBytes();
      throw;
    }
  }
  if (damaged_users_.count(name) != 0 || !store_->VerifyUser(*u)) {
    CloseMaster();
    Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": its record was edited");
  }
}

void Token::CloseMaster() {
  if (!store_ || unseal_) return;
  master_ = SecureBytes();
  store_->Lock();
}

// ---------------------------------------------------------------- activation, login, logout

void Token::Activate(ByteView password) {
  Refresh();
  std::lock_guard lock(auth_mu_);
  SecureBytes kek;
  users_.Activate(password, &kek);
  if (!store_) return;
  try {
    if (master_.empty()) {
      master_ = SecureBytes(32);
      ossl::RandomInto(master_.data(), master_.size());
    }
    UnlockStore();  // a fresh token: its first manifest, signed with the new master key
    WrapMasterFor(profile_.admin_name, kek);
    SaveUser(profile_.admin_name);
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
  ProveAndUnlock(name, kek);
  login_ = LoginState{name, role};
}

void Token::AcceptRollback(const std::string& user, ByteView password) {
  if (!store_) Fail(CKR_FUNCTION_NOT_SUPPORTED, "a memory token has no older state to accept");
  Refresh();
  std::lock_guard lock(auth_mu_);
  if (login_ || !master_.empty()) Fail(CKR_USER_ALREADY_LOGGED_IN, "accept a rollback from a process where nobody is logged in (and without an unseal key)");
  SecureBytes kek;
  Role role;
  std::string name = CheckPassword(user, password, &kek, &role);
  if (role != Role::kAdmin) Fail(CKR_USER_TYPE_INVALID, std::string("only ") + (profile_.ownership ? "an admin" : "the SO") + " accepts a rollback");
  ProveAndUnlock(name, kek, &name);
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
  (void)seal::Open(kek.view(), UserAad(store_->token_id(), store_->profile(), u->name, u->role), u->master_wrap, who);
  AppendOperatorLog(store_->dir(), name + " unlocked offline after " + std::to_string(before) + " failed logins");
  ClearAttempts(name);
}

void Token::Logout() {
  {
    std::lock_guard lock(auth_mu_);
    if (!login_) Fail(CKR_USER_NOT_LOGGED_IN, "nobody is logged in");
    login_.reset();
    if (!store_ || unseal_) return;
    CloseMaster();  // wiped; unsealed objects go too
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
  try {
    WrapMasterFor(name, kek);
    SaveUser(name);
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
  if (store_) store_->DeleteUser(name);
  users_.Delete(name);
  std::unique_lock objects(mu_);  // the user's shares go with it
  for (auto& [h, o] : objects_) {
    if (o->shared_with.count(name)) {
      auto c = hsm::CopyObject(*o);
      c->shared_with.erase(name);
      o = std::move(c);
    }
  }
  for (auto& r : rows) {
    if (!r.shared_with.count(name)) continue;
    ObjectRef obj = LoadStored(r);  // verifies the row before it is signed again
    r.shared_with.erase(name);
    store_->Update(r, Resealer(*obj));
  }
}

void Token::ChangePassword(const std::string& raw, ByteView password) {
  std::lock_guard lock(auth_mu_);
  if (!login_) Fail(CKR_USER_NOT_LOGGED_IN, "log in to change a password");
  std::string name = users_.NormalizeName(raw);
  if (login_->role != Role::kAdmin && name != login_->user) Fail(CKR_USER_TYPE_INVALID, "crypto users change only their own password");
  SecureBytes kek;
  users_.ChangePassword(name, password, &kek);  // also unlocks
  WrapMasterFor(name, kek);
  SaveUser(name);
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
    if (store_) {
      try {
        master_ = SecureBytes(32);
        ossl::RandomInto(master_.data(), master_.size());
        UnlockStore();
        WrapMasterFor(profile_.admin_name, kek);
        SaveUser(profile_.admin_name);
        if (new_label != label_) store_->SetLabel(new_label);
      } catch (...) {
        users_.Replace(store_->Users());
        CloseMaster();
        throw;
      }
      CloseMaster();
    }
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
    bool opened_here = master_.empty();
    ProveAndUnlock(so, kek);
    try {
      store_->Reinitialize(so, new_label);
    } catch (...) {
      if (opened_here) CloseMaster();
      throw;
    }
    users_.Replace(store_->Users());
    if (opened_here) CloseMaster();
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
    users_.ChangePassword(user, pin, &kek);  // the SO unlocks a locked user PIN this way
  } else {
    users_.Create(user, pin, Role::kCryptoUser, &kek);
  }
  WrapMasterFor(user, kek);
  SaveUser(user);
  ClearAttempts(user);
}

void Token::SetPin(const std::string& user, ByteView old_pin, ByteView new_pin) {
  Refresh();
  std::lock_guard lock(auth_mu_);
  users_.CheckPassword(new_pin);
  SecureBytes kek;
  Role role;
  std::string name = CheckPassword(user, old_pin, &kek, &role);
  bool opened_here = store_ && master_.empty();
  if (store_) ProveAndUnlock(name, kek);
  try {
    users_.ChangePassword(name, new_pin, &kek);
    WrapMasterFor(name, kek);
    SaveUser(name);
  } catch (...) {
    if (opened_here && !login_) CloseMaster();
    throw;
  }
  if (opened_here && !login_) CloseMaster();
}

}  // namespace hsm
