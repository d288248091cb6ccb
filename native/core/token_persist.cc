// native/core/token_persist.cc
//
// The persistent side of Token (DESIGN "The sealed slot", "Storage"): the master key opened by an
// unseal key for unattended services; token objects written through to the store sealed with
// AES-256-GCM under the master key (key pairs in one transaction, quotas checked inside it); rows
// read back lazily, verified, and cached until another process changes them. Users and the login
// proof are in token_users.cc.
#include <openssl/x509.h>

#include "keys.h"
#include "store/seal.h"
#include "token.h"

namespace hsm {

namespace {

Bytes UnsealAad(ByteView token_id) {
  statemac::Message m("sealhsm unseal v2");
  m.Add(token_id);
  return m.bytes();
}

}  // namespace

Token::Token(const Profile& profile, std::unique_ptr<TokenStore> store, std::optional<SecureBytes> unseal_key)
    : profile_(profile), label_(store->label()), users_(profile, store->max_failed_logins()), store_(std::move(store)) {
  next_handle_ = kFirstSessionHandle;
  users_.Replace(store_->Users());
  if (!unseal_key) return;
  if (unseal_key->size() != 32) Fail(CKR_ARGUMENTS_BAD, "an unseal key is 32 bytes");
  unseal_ = std::move(*unseal_key);
  auto wrap = store_->UnsealWrap();
  if (!wrap) return;  // wrapped the first time the master key is open
  try {
    master_ = seal::Open(unseal_->view(), UnsealAad(store_->token_id()), *wrap, "the token's unseal record");
  } catch (const Error&) {
    Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "the unseal key does not open this token (wrong key, or the token was tampered with)");
  }
  UnlockStore();  // verifies the whole token state at open
}

void Token::SaveUnsealWrap() {
  if (unseal_ && !master_.empty() && !store_->UnsealWrap()) {
    store_->PutUnsealWrap(seal::Seal(unseal_->view(), UnsealAad(store_->token_id()), master_.view()));
  }
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

SecureBytes Token::MasterCopy() const {
  std::lock_guard lock(auth_mu_);
  if (master_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "log in to use the token's objects (their seals need the master key)");
  return master_.CloneSecret();
}

SecureBytes Token::Payload(const Object& o) const {
  if (o.cls == CKO_SECRET_KEY) return o.secret.CloneSecret();
  if (o.cls == CKO_PRIVATE_KEY) return EncodePkcs8(o);
  return SecureBytes();
}

TokenStore::Sealer Token::Resealer(const Object& o) const {
  auto master = std::make_shared<SecureBytes>(MasterCopy());
  auto payload = std::make_shared<SecureBytes>(Payload(o));
  ByteView id = store_->token_id();
  return [master, payload, id](const StoredObject& row) { return seal::Seal(master->view(), ObjectAad(id, row), payload->view()); };
}

StoredObject Token::ToStored(const Object& o) const {
  StoredObject row;
  row.cls = o.cls;
  row.key_type = o.key_type == CK_UNAVAILABLE_INFORMATION ? 0 : o.key_type;
  if (const Bytes* l = o.attrs.Find(CKA_LABEL)) row.label = *l;
  if (const Bytes* i = o.attrs.Find(CKA_ID)) row.id = *i;
  row.owner = o.owner;
  row.shared_with = o.shared_with;
  Template all;
  for (const auto& [type, value] : o.attrs) all.emplace_back(type, value);
  row.attrs = EncodeTemplate(all);
  return row;
}

std::vector<CK_OBJECT_HANDLE> Token::StoreTokenObjects(std::vector<std::shared_ptr<Object>> objs) {
  SecureBytes master = MasterCopy();
  std::vector<StoredObject> rows;
  std::vector<SecureBytes> payloads;
  std::size_t keys = 0, asym = 0;
  for (const auto& o : objs) {
    rows.push_back(ToStored(*o));
    payloads.push_back(Payload(*o));
    keys += o->IsKey() ? 1 : 0;
    asym += o->cls == CKO_PUBLIC_KEY || o->cls == CKO_PRIVATE_KEY ? 1 : 0;
  }
  std::size_t next = 0;
  ByteView id = store_->token_id();
  auto seal = [&](const StoredObject& row) { return seal::Seal(master.view(), ObjectAad(id, row), payloads[next++].view()); };
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

ObjectRef Token::LoadStored(const StoredObject& row) const {
  SecureBytes master = MasterCopy();
  SecureBytes payload = seal::Open(master.view(), ObjectAad(store_->token_id(), row), row.sealed, DescribeObject(row));
  auto obj = std::make_shared<Object>();
  obj->cls = row.cls;
  obj->key_type = obj->IsKey() ? row.key_type : CK_UNAVAILABLE_INFORMATION;
  try {
    obj->attrs = Attributes::FromTemplate(DecodeTemplate(row.attrs));
  } catch (const Error&) {
    Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + DescribeObject(row) + ": its attributes are malformed");
  }
  obj->owner = row.owner;
  obj->shared_with = row.shared_with;
  if (obj->cls == CKO_SECRET_KEY) {
    obj->secret = std::move(payload);
  } else if (obj->cls == CKO_PRIVATE_KEY) {
    obj->pkey = DecodePkcs8(payload.view(), obj->key_type, &obj->curve, /*validate=*/false);
  } else if (obj->cls == CKO_PUBLIC_KEY) {
    const Bytes& spki = obj->attrs.Get(CKA_PUBLIC_KEY_INFO);
    const unsigned char* p = spki.data();
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
    if (k == nullptr) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + DescribeObject(row) + ": bad public key");
    obj->pkey = ossl::AdoptPkey(k);
    if (const Bytes* params = obj->attrs.Find(CKA_EC_PARAMS)) obj->curve = &CurveFromParams(*params);
  }
  return obj;
}

}  // namespace hsm
