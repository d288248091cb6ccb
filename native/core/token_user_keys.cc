// native/core/token_user_keys.cc
//
// Each user's keys on a persistent token (token format 3, docs/design/per-user-sealing.md): the
// state key and the user key (UK) wrapped under the user's password-derived KEK; what the UK opens
// (seal and MAC keys, the sharing and signing pairs, for admins the admin key) checked against the
// record and the admin key's certificate of it; a password change by the user itself, which moves
// everything to a new UK; and an admin's reset, which cannot open the old UK and so makes a new one,
// deleting what only the old one opened. auth_mu_ is held throughout.
#include <openssl/crypto.h>

#include "store/operator_log.h"
#include "store/seal.h"
#include "token.h"
#include "token_formats.h"

namespace hsm {

namespace {

constexpr std::size_t kHalf = 32;  // a wrap holds the state key, then the UK

SecureBytes JoinKeys(const SecureBytes& master, const userkeys::UserSecrets& keys) {
  SecureBytes both(2 * kHalf);
  std::copy(master.data(), master.data() + kHalf, both.data());
  std::copy(keys.uk.data(), keys.uk.data() + kHalf, both.data() + kHalf);
  return both;
}

}  // namespace

void Token::UnlockStore(const std::string* accept_rollback_by) {
  std::set<std::string> damaged = store_->Unlock(master_.view(), accept_rollback_by);
  damaged_users_ = std::move(damaged);
}

Token::Secrets Token::OpenUserKeys(const User& u, ByteView wrapped_keys) const {
  auto keys = std::make_shared<userkeys::UserSecrets>();
  keys->name = u.name;
  keys->uk = SecureBytes(ByteView(wrapped_keys.data + kHalf, kHalf));
  userkeys::DeriveFromUk(*keys);
  userkeys::OpenPrivates(*keys, store_->token_id(), u.privates, u.kx_public, u.sign_public);
  std::string who = "user '" + u.name + "'";
  if (!userkeys::Verify(admin_public_, formats::CertMessage(store_->token_id(), u), u.cert)) {
    Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": its public keys are not certified by the token's admin key");
  }
  bool admin = u.role == Role::kAdmin;
  if (admin != !keys->admin_private.empty()) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": its admin key does not match its role");
  if (admin) {
    Bytes pub = userkeys::SigningPublic(keys->admin_private.view());
    if (pub.size() != admin_public_.size() || CRYPTO_memcmp(pub.data(), admin_public_.data(), pub.size()) != 0) {
      Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": its admin key is not the token's");
    }
  }
  return keys;
}

void Token::WrapUserKeys(User& u, const SecureBytes& kek, const userkeys::UserSecrets& keys) const {
  if (master_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "the token's state key is not open");
  SecureBytes both = JoinKeys(master_, keys);
  u.keys_wrap = seal::Seal(kek.view(), formats::KeysAad(store_->token_id(), store_->profile(), u, admin_public_), both.view());
}

Token::Secrets Token::NewUserKeys(User& u, const SecureBytes& kek, ByteView admin_seed, bool holds_admin_key) {
  if (admin_seed.size != userkeys::kKeyBytes) Fail(CKR_USER_NOT_LOGGED_IN, "an admin's keys are needed to certify a user");
  auto keys = std::make_shared<userkeys::UserSecrets>(userkeys::Generate(u.name));
  if (holds_admin_key) keys->admin_private = SecureBytes(admin_seed);
  u.kx_public = keys->kx_public;
  u.sign_public = keys->sign_public;
  u.cert = userkeys::Sign(admin_seed, formats::CertMessage(store_->token_id(), u));
  u.privates = userkeys::SealPrivates(*keys, store_->token_id());
  WrapUserKeys(u, kek, *keys);
  return keys;
}

Token::Secrets Token::ProveAndUnlock(const std::string& name, const SecureBytes& kek, const std::string* accept_token_rollback,
                                     const std::string* accept_user_rollback) {
  const User* u = users_.Find(name);
  std::string who = "user '" + name + "'";
  if (u == nullptr || u->keys_wrap.empty()) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": no key wrap");
  admin_public_ = store_->AdminPublic();
  SecureBytes opened = seal::Open(kek.view(), formats::KeysAad(store_->token_id(), store_->profile(), *u, admin_public_), u->keys_wrap,
                                  who + " (or the token's admin key was replaced)");
  if (opened.size() != 2 * kHalf) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": its key wrap is malformed");
  if (!master_.empty()) {
    // An unseal key opened the token already: the user's wrap must hold the same state key.
    if (CRYPTO_memcmp(opened.data(), master_.data(), kHalf) != 0) {
      Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": its wrap holds another token's state key");
    }
  } else {
    master_ = SecureBytes(ByteView(opened.data(), kHalf));
    try {
      UnlockStore(accept_token_rollback);
    } catch (...) {
      master_ = SecureBytes();
      throw;
    }
  }
  Secrets keys;
  try {
    if (damaged_users_.count(name) != 0 || !store_->VerifyUser(*u)) {
      Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": its record was edited");
    }
    keys = OpenUserKeys(*u, opened.view());
    store_->VerifyUserState(name, keys->mac_key, accept_user_rollback);
  } catch (...) {
    CloseMaster();
    throw;
  }
  return keys;
}

void Token::CloseMaster() {
  // A logged-in user's keys stay open until its logout, whatever else failed meanwhile (a C_SetPIN
  // for the other user, say).
  if (!store_ || login_) return;
  me_.reset();
  if (unsealed_) {
    store_->SetWriter(unsealed_->name, &unsealed_->mac_key);  // the unseal key keeps its user's keys open
    return;
  }
  master_ = SecureBytes();
  store_->Lock();
}

void Token::SaveUnsealWrap() {
  // A service's user uses keys: an admin's keys (the admin key among them) are never kept open.
  if (!unseal_ || !me_ || unsealed_ || !me_->admin_private.empty() || store_->UnsealWrap()) return;
  SecureBytes both = JoinKeys(master_, *me_);
  store_->PutUnsealWrap(me_->name, seal::Seal(unseal_->view(), formats::UnsealAad(store_->token_id(), me_->name), both.view()));
  unsealed_ = me_;
}

void Token::RekeySelf(const std::string& name, const SecureBytes& kek, const Secrets& now) {
  User* u = users_.FindMutable(name);
  if (u == nullptr) Fail(CKR_ARGUMENTS_BAD, "no user '" + name + "'");
  auto next = std::make_shared<userkeys::UserSecrets>();
  next->name = name;
  next->kx_private = now->kx_private.CloneSecret();
  next->sign_private = now->sign_private.CloneSecret();
  next->signer = now->signer;
  next->admin_private = now->admin_private.CloneSecret();
  next->kx_public = now->kx_public;
  next->sign_public = now->sign_public;
  userkeys::RotateUk(*next);
  u->privates = userkeys::SealPrivates(*next, store_->token_id());
  WrapUserKeys(*u, kek, *next);
  ByteView id = store_->token_id();
  store_->SetWriter(name, &now->mac_key);
  try {
    store_->RekeyUser(*u, next->mac_key, [&](StoredObject& row) {
      auto wrap = row.wraps.find(name);
      if (wrap == row.wraps.end()) return;
      SecureBytes dek = seal::Open(now->seal_key.view(), formats::OwnerWrapAad(id, row.handle, name), wrap->second, DescribeObject(row));
      wrap->second = seal::Seal(next->seal_key.view(), formats::OwnerWrapAad(id, row.handle, name), dek.view());
    });
  } catch (...) {
    users_.Replace(store_->Users());
    RestoreWriter();
    throw;
  }
  if (unsealed_ && unsealed_->name == name) {
    SecureBytes both = JoinKeys(master_, *next);
    store_->PutUnsealWrap(name, seal::Seal(unseal_->view(), formats::UnsealAad(id, name), both.view()));
    unsealed_ = next;
  }
  if (me_ && me_->name == name) me_ = next;
  RestoreWriter();
}

void Token::RestoreWriter() {
  Secrets w = me_ ? me_ : unsealed_;
  store_->SetWriter(w ? w->name : std::string(), w ? &w->mac_key : nullptr);
}

void Token::ResetOther(const std::string& name, ByteView password, bool discard_keys) {
  if (!me_ || me_->admin_private.empty()) Fail(CKR_USER_TYPE_INVALID, "only an admin resets another user's password");
  std::size_t held = store_->HeldRows(name);
  if (held != 0 && !discard_keys) {
    Fail(CKR_ACTION_PROHIBITED, "'" + name + "' holds " + std::to_string(held) +
                                    " token objects that only its own password opens, and a reset makes it a new user key: the user changes "
                                    "its own password (a locked user unlocks itself with `sealhsm token unlock`), or the reset says to delete "
                                    "them (discardKeys, --discard-keys)");
  }
  SecureBytes kek;
  users_.ChangePassword(name, password, &kek);  // also unlocks
  User* u = users_.FindMutable(name);
  try {
    AppendOperatorLog(store_->dir(), me_->name + " reset the password of " + name +
                                         (held != 0 ? ", deleting the " + std::to_string(held) + " token objects it held" : std::string()));
    Secrets keys = NewUserKeys(*u, kek, me_->admin_private.view(), u->role == Role::kAdmin);
    store_->ResetUser(*u, keys->mac_key);
  } catch (...) {
    users_.Replace(store_->Users());
    throw;
  }
}

}  // namespace hsm
