// native/core/token_persist.cc
//
// The persistent side of Token (DESIGN "The sealed slot", "Storage"): the master key wrapped per user
// under the user's scrypt-derived key and optionally under an unseal key; token objects written
// through to the store sealed with AES-256-GCM under the master key; rows read back lazily, verified,
// and cached until another process changes the token.
#include <openssl/x509.h>

#include "keys.h"
#include "store/seal.h"
#include "token.h"

namespace hsm {

namespace {

Bytes UserAad(ByteView token_id, const std::string& name, Role role) {
  Bytes aad;
  const char tag[] = "sealhsm user v1";
  Append(aad, ByteView(reinterpret_cast<const uint8_t*>(tag), sizeof tag));
  Append(aad, token_id);
  std::string who = name + "/" + RoleName(role);
  Append(aad, ByteView(reinterpret_cast<const uint8_t*>(who.data()), who.size()));
  return aad;
}

Bytes UnsealAad(ByteView token_id) {
  Bytes aad;
  const char tag[] = "sealhsm unseal v1";
  Append(aad, ByteView(reinterpret_cast<const uint8_t*>(tag), sizeof tag));
  Append(aad, token_id);
  return aad;
}

std::string Describe(const StoredObject& row) {
  char b[40];
  snprintf(b, sizeof b, "object 0x%lx", static_cast<unsigned long>(row.handle));
  std::string d = b;
  if (!row.label.empty()) d += " ('" + std::string(row.label.begin(), row.label.end()) + "')";
  return d;
}

}  // namespace

Token::Token(const Profile& profile, std::unique_ptr<TokenStore> store, std::optional<SecureBytes> unseal_key)
    : profile_(profile), label_(store->label()), users_(profile), store_(std::move(store)) {
  next_handle_ = CK_OBJECT_HANDLE{1} << 40;  // session objects; token objects take the store's row ids
  users_.Replace(store_->Users());
  if (unseal_key) {
    if (unseal_key->size() != 32) Fail(CKR_ARGUMENTS_BAD, "an unseal key is 32 bytes");
    unseal_ = std::move(*unseal_key);
    if (auto wrap = store_->UnsealWrap()) {
      try {
        master_ = seal::Open(unseal_->view(), UnsealAad(store_->token_id()), *wrap, "the token's unseal record");
      } catch (const Error&) {
        Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "the unseal key does not open this token (wrong key, or the token was tampered with)");
      }
    }
  }
}

void Token::Backup(const std::string& dest_dir) {
  if (!store_) Fail(CKR_FUNCTION_NOT_SUPPORTED, "a memory token has nothing to back up");
  store_->Backup(dest_dir);
}

void Token::Refresh() const {
  if (!store_ || !store_->Changed()) return;
  {
    std::lock_guard lock(auth_mu_);
    users_.Replace(store_->Users());
  }
  std::unique_lock lock(mu_);
  DropCachedTokenObjects();
}

void Token::DropCachedTokenObjects() const {
  for (auto it = objects_.begin(); it != objects_.end();) {
    it = it->second->IsTokenObject() ? objects_.erase(it) : std::next(it);
  }
}

void Token::SaveUser(const std::string& name) {
  if (!store_) return;
  if (const User* u = users_.Find(name)) store_->PutUser(*u);
}

void Token::WrapMasterFor(const std::string& name, const SecureBytes& kek) {
  if (!store_) return;
  User* u = users_.FindMutable(name);
  if (u == nullptr) return;
  if (master_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "the token's master key is not open");
  u->master_wrap = seal::Seal(kek.view(), UserAad(store_->token_id(), u->name, u->role), master_.view());
  if (unseal_ && !store_->UnsealWrap()) store_->PutUnsealWrap(seal::Seal(unseal_->view(), UnsealAad(store_->token_id()), master_.view()));
}

void Token::OpenMaster(const std::string& name, const SecureBytes& kek) {
  if (!store_ || !master_.empty()) return;
  const User* u = users_.Find(name);
  if (u == nullptr || u->master_wrap.empty()) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for user '" + name + "': no master key wrap");
  master_ = seal::Open(kek.view(), UserAad(store_->token_id(), u->name, u->role), u->master_wrap, "user '" + name + "'");
  if (unseal_ && !store_->UnsealWrap()) store_->PutUnsealWrap(seal::Seal(unseal_->view(), UnsealAad(store_->token_id()), master_.view()));
}

SecureBytes Token::MasterCopy() const {
  std::lock_guard lock(auth_mu_);
  if (master_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "log in to use the token's objects (their seals need the master key)");
  return master_.CloneSecret();
}

Bytes Token::Payload(const Object& o) const {
  if (o.cls == CKO_SECRET_KEY) return ToBytes(o.secret.view());
  if (o.cls == CKO_PRIVATE_KEY) return ToBytes(EncodePkcs8(o.pkey.get()).view());
  return {};
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

ObjectRef Token::LoadStored(const StoredObject& row) const {
  SecureBytes master = MasterCopy();
  SecureBytes payload = seal::Open(master.view(), ObjectAad(store_->token_id(), row), row.sealed, Describe(row));
  auto obj = std::make_shared<Object>();
  obj->cls = row.cls;
  obj->key_type = obj->IsKey() ? row.key_type : CK_UNAVAILABLE_INFORMATION;
  obj->attrs = Attributes::FromTemplate(DecodeTemplate(row.attrs));
  obj->owner = row.owner;
  obj->shared_with = row.shared_with;
  if (obj->cls == CKO_SECRET_KEY) {
    obj->secret = std::move(payload);
  } else if (obj->cls == CKO_PRIVATE_KEY) {
    obj->pkey = DecodePkcs8(payload.view(), obj->key_type, &obj->curve);
  } else if (obj->cls == CKO_PUBLIC_KEY) {
    const Bytes& spki = obj->attrs.Get(CKA_PUBLIC_KEY_INFO);
    const unsigned char* p = spki.data();
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
    if (k == nullptr) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + Describe(row) + ": bad public key");
    obj->pkey = ossl::AdoptPkey(k);
    if (const Bytes* params = obj->attrs.Find(CKA_EC_PARAMS)) obj->curve = &CurveFromParams(*params);
  }
  return obj;
}

}  // namespace hsm
