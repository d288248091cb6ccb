// native/core/token_persist.cc
//
// The persistent side of Token (DESIGN "The sealed slot", "Storage"): one user's keys opened by an
// unseal key for unattended services; token objects written through to the store (key pairs in one
// transaction, quotas checked inside it); rows read back lazily, verified, and cached until another
// process changes them. How rows are sealed and signed is token_seal.cc; users and the login proof
// are token_users.cc and token_user_keys.cc.
#include <openssl/x509.h>

#include "keys.h"
#include "store/seal.h"
#include "token.h"
#include "token_formats.h"

namespace hsm {

Token::Token(const Profile& profile, std::unique_ptr<TokenStore> store, std::optional<SecureBytes> unseal_key)
    : profile_(profile), label_(store->label()), users_(profile, store->max_failed_logins()), store_(std::move(store)) {
  next_handle_ = kFirstSessionHandle;
  users_.Replace(store_->Users());
  admin_public_ = store_->AdminPublic();
  if (!unseal_key) return;
  if (unseal_key->size() != 32) Fail(CKR_ARGUMENTS_BAD, "an unseal key is 32 bytes");
  unseal_ = std::move(*unseal_key);
  auto record = store_->UnsealWrap();
  if (!record) return;  // made at the first login with the key: it then opens that user's keys
  const auto& [user, wrap] = *record;
  SecureBytes keys;
  try {
    keys = seal::Open(unseal_->view(), formats::UnsealAad(store_->token_id(), user), wrap, "the token's unseal record");
  } catch (const Error&) {
    Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "the unseal key does not open this token (wrong key, or the token was tampered with)");
  }
  const User* u = users_.Find(user);
  if (u == nullptr || keys.size() != 64) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "the unseal key opens the keys of '" + user + "', who is no user of this token");
  std::lock_guard lock(auth_mu_);
  master_ = SecureBytes(ByteView(keys.data(), 32));
  UnlockStore();  // verifies the whole token state at open
  unsealed_ = OpenUserKeys(*u, keys.view());
  store_->VerifyUserState(user, unsealed_->mac_key);
  store_->SetWriter(user, &unsealed_->mac_key);
}

void Token::Backup(const std::string& dest_dir) {
  if (!store_) Fail(CKR_FUNCTION_NOT_SUPPORTED, "a memory token has nothing to back up");
  store_->Backup(dest_dir);
}

void Token::ClaimService(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 16;
  for (char c : name) ok = ok && c >= 'a' && c <= 'z';
  if (!ok) Fail(CKR_ARGUMENTS_BAD, "a service name is 1..16 lower-case letters");
  if (!store_) return;
  std::lock_guard lock(auth_mu_);
  if (services_.count(name) != 0) Fail(CKR_FUNCTION_FAILED, "this process serves '" + name + "' on the token already");
  std::string path = store_->dir() + "/" + name + ".lock", holder;
  auto held = FileLock::TryHold(path, &holder);
  if (!held) {
    Fail(CKR_FUNCTION_FAILED, "the token in " + store_->dir() + " is served by '" + name + "' in process " + (holder.empty() ? "(unknown)" : holder) +
                                  " already; two servers on one token would split its state: stop that one first");
  }
  services_.emplace(name, std::move(held));
}

void Token::ReleaseService(const std::string& name) {
  std::lock_guard lock(auth_mu_);
  services_.erase(name);
}

void Token::Refresh() const {
  if (!store_) return;
  StoreChanges changes = store_->Poll();  // CKR_SEALHSM_INTEGRITY_FAILURE on a rollback
  if (!changes.all && !changes.users && changes.objects.empty()) return;
  if (changes.all || changes.users) {
    std::lock_guard lock(auth_mu_);
    users_.Replace(store_->Users());
    admin_public_ = store_->AdminPublic();
    if (store_->Unlocked()) {
      damaged_users_.clear();
      for (const User& u : users_.All()) {
        if (!store_->VerifyUser(u)) damaged_users_.insert(u.name);
      }
    }
  }
  std::unique_lock lock(mu_);
  if (changes.all) {
    DropCachedTokenObjects();
    return;
  }
  for (CK_OBJECT_HANDLE h : changes.objects) objects_.erase(h);  // only what another process changed
}

void Token::DropCachedTokenObjects() const {
  for (auto it = objects_.begin(); it != objects_.end();) {
    it = it->second->IsTokenObject() ? objects_.erase(it) : std::next(it);
  }
  cache_order_.clear();
}

SecureBytes Token::Payload(const Object& o) const {
  if (o.sealed_away) Fail(CKR_KEY_HANDLE_INVALID, "the key's material is sealed for its owner and the users it is shared with");
  if (o.cls == CKO_SECRET_KEY) return o.secret.CloneSecret();
  if (o.cls == CKO_PRIVATE_KEY) return EncodePkcs8(o);
  return SecureBytes();
}

StoredObject Token::ToStored(const Object& o) const {
  StoredObject row;
  row.cls = o.cls;
  row.key_type = o.key_type == CK_UNAVAILABLE_INFORMATION ? 0 : o.key_type;
  if (const Bytes* l = o.attrs.Find(CKA_LABEL)) row.label = *l;
  if (const Bytes* i = o.attrs.Find(CKA_ID)) row.id = *i;
  row.owner = o.owner;
  row.shared_with = o.shared_with;
  row.holder = o.holder;
  row.tsig = o.endorsement;
  Template all;
  for (const auto& [type, value] : o.attrs) all.emplace_back(type, value);
  row.attrs = EncodeTemplate(all);
  return row;
}

std::vector<CK_OBJECT_HANDLE> Token::StoreTokenObjects(std::vector<std::shared_ptr<Object>> objs, CK_OBJECT_HANDLE fixed_handle) {
  Secrets writer = Writer();
  if (!writer) Fail(CKR_USER_NOT_LOGGED_IN, "log in to write the token's objects (each row is signed by the user who writes it)");
  std::vector<StoredObject> rows;
  std::vector<TokenStore::Sealer> sealers;
  std::size_t keys = 0, asym = 0;
  for (const auto& o : objs) {
    o->holder = writer->name;
    if (fixed_handle == 0) o->endorsement.clear();  // a new handle: CKA_TRUSTED is endorsed for it, or refused
    rows.push_back(ToStored(*o));
    rows.back().handle = fixed_handle;
    sealers.push_back(Resealer(*o));
    keys += o->IsKey() ? 1 : 0;
    asym += o->cls == CKO_PUBLIC_KEY || o->cls == CKO_PRIVATE_KEY ? 1 : 0;
  }
  std::size_t next = 0;
  auto seal = [&](StoredObject& row) {
    sealers[next](row);
    objs[next]->endorsement = row.tsig;
    next++;
  };
  auto quota = [&](std::size_t stored_keys, std::size_t stored_asym) {
    std::shared_lock lock(mu_);
    CheckQuota(keys, asym, stored_keys, stored_asym);
  };
  std::vector<CK_OBJECT_HANDLE> handles = store_->Insert(std::move(rows), seal, quota);
  std::unique_lock lock(mu_);
  for (std::size_t i = 0; i < handles.size(); i++) Cache(handles[i], std::move(objs[i]));
  return handles;
}

void Token::Cache(CK_OBJECT_HANDLE h, ObjectRef o) const {
  const Object* raw = o.get();
  if (!objects_.emplace(h, std::move(o)).second) return;
  cache_order_.emplace_back(h, raw);
  while (cache_order_.size() > kCachedTokenObjects) {
    auto [old, obj] = cache_order_.front();
    cache_order_.pop_front();
    auto it = objects_.find(old);
    if (it != objects_.end() && it->second.get() == obj) objects_.erase(it);  // token objects: no tally
  }
}

}  // namespace hsm
