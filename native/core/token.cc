// native/core/token.cc
// A token's objects and who may reach them (PKCS#11 v3.0 §5.7 object management, §4 attributes):
// visibility and ownership, quotas, key usability checks shared by every operation, and the object
// functions. Key checks: wrong class or key type → CKR_KEY_TYPE_INCONSISTENT, usage attribute false
// → CKR_KEY_FUNCTION_NOT_PERMITTED, size outside the mechanism's range → CKR_KEY_SIZE_RANGE. Users
// and login are in token_users.cc, key management in token_keys.cc, operations in token_crypto.cc.
#include "token.h"
#include "token_formats.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "attribute_changes.h"
#include "keys.h"
#include "token_rules.h"
#include "store/seal.h"

namespace hsm {

CK_OBJECT_CLASS RequiredClass(const Attributes& t) {
  auto cls = t.Ulong(CKA_CLASS);
  if (!cls) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_CLASS is required");
  return *cls;
}

namespace {

bool ClassDoes(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE usage) {
  switch (usage) {
    case CKA_ENCRYPT: case CKA_VERIFY: case CKA_WRAP: return cls == CKO_PUBLIC_KEY || cls == CKO_SECRET_KEY;
    case CKA_DECRYPT: case CKA_SIGN: case CKA_UNWRAP: case CKA_DERIVE: return cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
    default: return false;
  }
}

bool IsAsymmetric(const Object& o) { return o.cls == CKO_PUBLIC_KEY || o.cls == CKO_PRIVATE_KEY; }

std::string Hex(CK_ULONG v) {
  char b[24];
  snprintf(b, sizeof b, "0x%lx", v);
  return b;
}

}  // namespace

// ---------------------------------------------------------------- access

bool Token::Visible(const Object& o, const std::optional<LoginState>& c) const {
  if (!profile_.ownership) {
    // PKCS#11: private objects only to the logged-in normal user.
    return !o.Flag(CKA_PRIVATE) || (c && c->role == Role::kCryptoUser);
  }
  if (!c) return false;
  if (c->role == Role::kAdmin) return o.IsKey();  // admins list keys, never use them
  return o.cls == CKO_PUBLIC_KEY || o.owner == c->user || o.shared_with.count(c->user) != 0 || o.owner.empty();
}

ObjectRef Token::Lookup(CK_OBJECT_HANDLE h, CK_RV invalid) const {
  Refresh();
  auto c = Caller();
  ObjectRef found;
  {
    std::shared_lock lock(mu_);
    auto it = objects_.find(h);
    if (it != objects_.end()) found = it->second;
  }
  if (!found && store_) {
    std::optional<StoredObject> row = store_->Load(h);
    if (row) {
      if (profile_.ownership && !c) Fail(invalid, "no object with handle " + std::to_string(h));
      found = LoadStored(*row);  // verifies the seal
      std::unique_lock lock(mu_);
      Cache(h, found);
    }
  }
  if (!found || !Visible(*found, c)) Fail(invalid, "no object with handle " + std::to_string(h));
  return found;
}

ObjectRef Token::Owned(CK_OBJECT_HANDLE h, CK_RV invalid, CK_RV not_owner, const char* what) const {
  ObjectRef o = Lookup(h, invalid);
  if (profile_.ownership) {
    auto c = Caller();
    if (!c || c->role != Role::kCryptoUser || o->owner != c->user) {
      Fail(not_owner, std::string("only the key's owner ('") + o->owner + "') may " + what + " it");
    }
  }
  return o;
}

void Token::RequireKeyUser() const {
  auto c = Caller();
  if (!profile_.ownership) return;
  if (!c) Fail(CKR_USER_NOT_LOGGED_IN, "log in as a crypto user to use keys");
  if (c->role != Role::kCryptoUser) Fail(CKR_USER_TYPE_INVALID, "admins manage users; only crypto users use keys");
}

std::string Token::RequireCreator(bool private_object) const {
  auto c = Caller();
  if (profile_.ownership) {
    RequireKeyUser();
    return c->user;
  }
  if (private_object && !(c && c->role == Role::kCryptoUser)) Fail(CKR_USER_NOT_LOGGED_IN, "private objects need the normal user logged in");
  return {};
}

void Token::Tally(CK_OBJECT_HANDLE h, const Object& o, int delta) const {
  // A persistent token's store counts its own keys; its session objects sit from kFirstSessionHandle
  // on. A memory token's objects are all counted here.
  if (store_ && h < kFirstSessionHandle) return;
  if (o.IsKey()) tallied_keys_ += static_cast<std::size_t>(delta);
  if (IsAsymmetric(o)) tallied_asymmetric_ += static_cast<std::size_t>(delta);
}

void Token::CheckQuota(std::size_t new_keys, std::size_t new_asymmetric, std::size_t stored_keys, std::size_t stored_asymmetric) const {
  // The counts are kept as objects come and go (Tally): a create costs the same with 10 keys or 100,000.
  std::size_t keys = stored_keys + tallied_keys_, asym = stored_asymmetric + tallied_asymmetric_;
  if (keys + new_keys > profile_.max_keys) Fail(CKR_DEVICE_MEMORY, "the key quota (" + std::to_string(profile_.max_keys) + ") is reached");
  if (asym + new_asymmetric > profile_.max_asymmetric_keys) {
    Fail(CKR_DEVICE_MEMORY, "the asymmetric key quota (" + std::to_string(profile_.max_asymmetric_keys) + ") is reached");
  }
}

std::size_t Token::ObjectCount() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

bool Token::Resident(CK_OBJECT_HANDLE h) const {
  std::shared_lock lock(mu_);
  return objects_.count(h) != 0;
}

CK_OBJECT_HANDLE Token::Store(Session& s, std::shared_ptr<Object> obj) {
  if (obj->IsTokenObject() && !s.ReadWrite()) Fail(CKR_SESSION_READ_ONLY, "token objects need a read-write session");
  obj->creator = obj->IsTokenObject() ? 0 : s.handle;
  if (store_ && obj->IsTokenObject()) return StoreTokenObjects({std::move(obj)}).front();
  auto [stored_keys, stored_asym] = store_ ? store_->CountKeys() : std::pair<std::size_t, std::size_t>{0, 0};
  std::unique_lock lock(mu_);
  CheckQuota(obj->IsKey() ? 1 : 0, IsAsymmetric(*obj) ? 1 : 0, stored_keys, stored_asym);
  CK_OBJECT_HANDLE h = next_handle_++;
  Tally(h, *obj, +1);
  objects_.emplace(h, std::move(obj));
  return h;
}

void Token::Replace(CK_OBJECT_HANDLE h, const ObjectRef& before, std::shared_ptr<Object> after) {
  if (store_ && after->IsTokenObject()) {
    if (!before->IsTokenObject()) {
      Fail(CKR_ATTRIBUTE_READ_ONLY, "on a persistent token a session key cannot become a token key; make it with token=true");
    }
    Secrets writer = Writer();
    if (writer && after->holder == writer->name) {
      StoredObject row = ToStored(*after);
      row.handle = h;
      store_->Update(row, Resealer(*after));
    } else {
      // Someone other than the holder (an admin setting CKA_TRUSTED) cannot sign for the holder:
      // the holder's signature must still cover the row, and an admin's endorsement is added.
      std::optional<StoredObject> row = store_->Load(h);
      if (!row) Fail(CKR_OBJECT_HANDLE_INVALID, "the object was destroyed meanwhile");
      StoredObject next = *row;
      next.attrs = ToStored(*after).attrs;
      next.shared_with = after->shared_with;
      ByteView id = store_->token_id();
      if (formats::RowMessage(id, next) != formats::RowMessage(id, *row)) {
        Fail(CKR_ACTION_PROHIBITED, "only '" + after->holder + "', who wrote the object, may change it (its row carries that user's signature)");
      }
      Endorse(next);
      store_->Update(next, nullptr);
      after->endorsement = next.tsig;
    }
  }
  std::unique_lock lock(mu_);
  auto it = objects_.find(h);
  if (it == objects_.end() && store_ && after->IsTokenObject()) {
    Cache(h, std::move(after));  // let go from the cache meanwhile; the store has the new row
    return;
  }
  if (it == objects_.end()) Fail(CKR_OBJECT_HANDLE_INVALID, "the object was destroyed meanwhile");
  if (it->second != before) Fail(CKR_FUNCTION_FAILED, "the object changed meanwhile; retry");
  it->second = std::move(after);
}

const MechanismInfo& Token::MechanismFor(CK_MECHANISM_TYPE type, CK_FLAGS function) const {
  const MechanismInfo* m = FindMechanism(type);
  if (m == nullptr || (FlagsIn(*m, profile_.families) & function) == 0) {
    Fail(CKR_MECHANISM_INVALID, "mechanism " + Hex(type) + " cannot do that in the " + profile_.name + " profile");
  }
  return *m;
}

ObjectRef Token::UsableKey(CK_OBJECT_HANDLE h, const MechanismInfo& m, CK_ATTRIBUTE_TYPE usage, CK_RV invalid) const {
  RequireKeyUser();
  ObjectRef key = Lookup(h, invalid);
  if (key->sealed_away) Fail(invalid, "the key's material is sealed for its owner and the users it is shared with");
  if (!key->IsKey() || !ClassDoes(key->cls, usage) || (m.key_types & KeyTypeBit(key->key_type)) == 0) {
    Fail(usage == CKA_WRAP ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT : usage == CKA_UNWRAP ? CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT : CKR_KEY_TYPE_INCONSISTENT,
         std::string(m.name) + " cannot use this key's class or type");
  }
  if (!key->Flag(usage)) {
    const AttrRule* r = FindRuleAnyClass(usage);
    Fail(CKR_KEY_FUNCTION_NOT_PERMITTED, std::string("the key's ") + (r ? r->name : "usage") + " is false");
  }
  if (const Bytes* allowed = key->attrs.Find(CKA_ALLOWED_MECHANISMS)) {
    bool ok = false;
    for (std::size_t i = 0; i + sizeof(CK_ULONG) <= allowed->size(); i += sizeof(CK_ULONG)) {
      CK_ULONG t;
      std::memcpy(&t, allowed->data() + i, sizeof t);
      ok = ok || t == m.type;
    }
    if (!ok) Fail(CKR_MECHANISM_INVALID, std::string(m.name) + " is not in the key's CKA_ALLOWED_MECHANISMS");
  }
  CK_ULONG size = key->KeySizeForMechanism();
  if (size < m.min_key || size > m.max_key) {
    Fail(usage == CKA_WRAP ? CKR_WRAPPING_KEY_SIZE_RANGE : usage == CKA_UNWRAP ? CKR_UNWRAPPING_KEY_SIZE_RANGE : CKR_KEY_SIZE_RANGE,
         std::string(m.name) + " does not take a key of this size");
  }
  return key;
}

void Token::CheckSize(const MechanismInfo& m, std::size_t n) const {
  std::size_t limit = profile_.LimitFor(m.type);
  if (limit != 0 && n > limit) {
    Fail(CKR_DATA_LEN_RANGE, std::string(m.name) + " takes at most " + std::to_string(limit) + " bytes per call in the " + profile_.name + " profile");
  }
}

MechParams Token::Prepared(const MechParams& m) const {
  MechParams p = m;
  p.generate_iv = profile_.hsm_generated_gcm_iv;
  return p;
}

std::unique_ptr<CipherOp> Token::NewCipher(const MechParams& m, const Object& key, bool encrypt) const {
  const MechanismInfo* info = FindMechanism(m.type);
  if (info == nullptr || info->cipher == nullptr) Fail(CKR_MECHANISM_INVALID, "no cipher for this mechanism");
  return info->cipher(key, Prepared(m), encrypt);
}

std::unique_ptr<SignOp> Token::NewSigner(const MechParams& m, const Object& key, bool sign) const {
  const MechanismInfo* info = FindMechanism(m.type);
  if (info == nullptr || info->sign == nullptr) Fail(CKR_MECHANISM_INVALID, "no signer for this mechanism");
  return info->sign(key, m, sign);
}

std::shared_ptr<Object> Token::NewKeyObject(const Attributes& t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt) const {
  auto obj = std::make_shared<Object>();
  obj->cls = cls;
  obj->key_type = kt;
  obj->attrs = t;
  return obj;
}

void Token::Finish(Object& obj, KeyOrigin origin, CK_MECHANISM_TYPE gen_mech, const Bytes* raw_public) const {
  auto c = Caller();
  CheckNewObjectTrust(obj.attrs, {c && c->role == Role::kAdmin});  // every template that makes an object passes here
  ApplyDefaults(profile_, obj, origin, gen_mech);
  if (obj.cls == CKO_SECRET_KEY) SetSecretAttributes(obj);
  if (obj.cls == CKO_PUBLIC_KEY || obj.cls == CKO_PRIVATE_KEY) SetPublicAttributes(obj, raw_public);
}

// ---------------------------------------------------------------- objects

CK_OBJECT_HANDLE Token::CreateObject(Session& s, const Template& tmpl) {
  Attributes t = Attributes::FromTemplate(tmpl);
  CK_OBJECT_CLASS cls = RequiredClass(t);
  CK_KEY_TYPE kt = CK_UNAVAILABLE_INFORMATION;
  bool key = cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
  if (key) {
    auto k = t.Ulong(CKA_KEY_TYPE);
    if (!k) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
    kt = *k;
    if (KeyTypeBit(kt) == 0) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "unsupported CKA_KEY_TYPE");
    bool secret_kt = kt == CKK_AES || kt == CKK_GENERIC_SECRET || kt == CKK_DES3;
    if (secret_kt != (cls == CKO_SECRET_KEY)) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_KEY_TYPE does not fit CKA_CLASS");
    if (kt == CKK_DES3 && (profile_.families & kFamilyDes3) == 0) Fail(CKR_TEMPLATE_INCONSISTENT, std::string("DES3 keys are not available in the ") + profile_.name + " profile");
    if (kt == CKK_EC_EDWARDS && (profile_.families & kFamilyEd25519) == 0) Fail(CKR_TEMPLATE_INCONSISTENT, std::string("Ed25519 keys are not available in the ") + profile_.name + " profile");
  } else if (cls != CKO_DATA && cls != CKO_CERTIFICATE) {
    Fail(CKR_ATTRIBUTE_VALUE_INVALID, "unsupported CKA_CLASS");
  }
  ValidateTemplate(t, cls, kt, TemplateUse::kCreate, profile_.inapplicable_attribute);
  CheckTemplateForProfile(profile_, t, cls, kt);
  bool private_object = t.BoolOr(CKA_PRIVATE, key && (profile_.private_must_be_true || cls != CKO_PUBLIC_KEY));
  std::string owner = RequireCreator(private_object);
  auto obj = NewKeyObject(t, cls, kt);
  if (key) MaterialFromTemplate(*obj, obj->attrs);
  if (cls == CKO_CERTIFICATE && !t.Has(CKA_CERTIFICATE_TYPE)) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_CERTIFICATE_TYPE is required");
  Finish(*obj, KeyOrigin::kCreated, CK_UNAVAILABLE_INFORMATION);
  obj->owner = owner;
  return Store(s, std::move(obj));
}

CK_OBJECT_HANDLE Token::CopyObject(Session& s, CK_OBJECT_HANDLE h, const Template& tmpl) {
  // Not in CloudHSM's library: the addon refuses it as the C door does.
  if (!profile_.token_admin_functions) Fail(CKR_FUNCTION_NOT_SUPPORTED, std::string("C_CopyObject is not offered by the ") + profile_.name + " profile");
  ObjectRef src = Owned(h, CKR_OBJECT_HANDLE_INVALID, CKR_ACTION_PROHIBITED, "copy");
  if (!src->attrs.BoolOr(CKA_COPYABLE, true)) Fail(CKR_ACTION_PROHIBITED, "the object's CKA_COPYABLE is false");
  Attributes t = Attributes::FromTemplate(tmpl);
  auto c = Caller();
  CheckChanges(profile_, *src, t, ChangePath::kCopy, {c && c->role == Role::kAdmin});
  auto copy = hsm::CopyObject(*src);
  for (const auto& [type, value] : t) copy->attrs.Set(type, value);
  return Store(s, std::move(copy));
}

void Token::DestroyObject(Session& s, CK_OBJECT_HANDLE h) {
  ObjectRef obj = Owned(h, CKR_OBJECT_HANDLE_INVALID, CKR_ACTION_PROHIBITED, "delete");
  if (!obj->attrs.BoolOr(CKA_DESTROYABLE, true)) Fail(CKR_ACTION_PROHIBITED, "the object's CKA_DESTROYABLE is false");
  if (obj->IsTokenObject() && !s.ReadWrite()) Fail(CKR_SESSION_READ_ONLY, "destroying a token object needs a read-write session");
  if (profile_.ownership) RequireKeyUser();
  if (store_ && obj->IsTokenObject()) store_->Delete(h);
  std::unique_lock lock(mu_);
  auto it = objects_.find(h);
  if (it != objects_.end()) {
    Tally(h, *it->second, -1);
    objects_.erase(it);
  }
}

std::vector<AttributeValue> Token::GetAttributes(Session&, CK_OBJECT_HANDLE h, const std::vector<CK_ATTRIBUTE_TYPE>& types) {
  ObjectRef obj = Lookup(h, CKR_OBJECT_HANDLE_INVALID);
  std::vector<AttributeValue> out;
  out.reserve(types.size());
  for (CK_ATTRIBUTE_TYPE type : types) {
    AttributeValue v{type, CKR_OK, {}};
    const AttrRule* rule = FindRule(type, obj->cls, obj->key_type);
    if (rule != nullptr && (rule->origin & kSecretPart)) {
      bool readable = obj->cls == CKO_SECRET_KEY && profile_.secret_value_readable && !obj->sealed_away && !obj->Flag(CKA_SENSITIVE) &&
                      obj->Flag(CKA_EXTRACTABLE);
      if (readable) {
        v.value = ToBytes(obj->secret.view());
      } else {
        v.status = CKR_ATTRIBUTE_SENSITIVE;
      }
    } else if (const Bytes* b = obj->attrs.Find(type)) {
      v.value = *b;
    } else {
      v.status = CKR_ATTRIBUTE_TYPE_INVALID;
    }
    out.push_back(std::move(v));
  }
  return out;
}

void Token::SetAttributes(Session& s, CK_OBJECT_HANDLE h, const Template& tmpl) {
  Attributes t = Attributes::FromTemplate(tmpl);
  auto c = Caller();
  bool admin = c && c->role == Role::kAdmin;
  ObjectRef obj = admin && profile_.ownership ? Lookup(h, CKR_OBJECT_HANDLE_INVALID)
                                              : Owned(h, CKR_OBJECT_HANDLE_INVALID, CKR_ACTION_PROHIBITED, "change");
  if (profile_.ownership && !admin) RequireKeyUser();
  if (!obj->attrs.BoolOr(CKA_MODIFIABLE, true)) Fail(CKR_ACTION_PROHIBITED, "the object's CKA_MODIFIABLE is false");
  if (obj->IsTokenObject() && !s.ReadWrite()) Fail(CKR_SESSION_READ_ONLY, "changing a token object needs a read-write session");
  ValidateTemplate(t, obj->cls, obj->key_type, TemplateUse::kGenerate, profile_.inapplicable_attribute);
  CheckChanges(profile_, *obj, t, ChangePath::kSetAttribute, {admin});
  auto next = hsm::CopyObject(*obj);
  for (const auto& [type, value] : t) {
    if (type == CKA_DERIVE && t.BoolOr(type, false) && obj->cls == CKO_PUBLIC_KEY) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_DERIVE is never true on a public key");
    next->attrs.Set(type, value);
  }
  if (next->IsTokenObject()) next->creator = 0;  // a session key made a token key outlives its session
  Replace(h, obj, std::move(next));
}

std::vector<CK_OBJECT_HANDLE> Token::FindObjects(Session&, const Template& tmpl) {
  Refresh();
  Attributes q = Attributes::FromTemplate(tmpl);
  auto c = Caller();
  std::vector<CK_OBJECT_HANDLE> found;
  {
    std::shared_lock lock(mu_);
    for (const auto& [h, obj] : objects_) {
      if (store_ && obj->IsTokenObject()) continue;  // the store answers for token objects
      if (Visible(*obj, c) && obj->attrs.Matches(q)) found.push_back(h);
    }
  }
  if (store_ && !(profile_.ownership && !c)) {
    // The indexed columns narrow the search; the rest of the template is matched on the stored
    // attributes. Using a found object unseals and verifies it.
    FindQuery fq;
    if (auto v = q.Ulong(CKA_CLASS)) fq.cls = *v;
    if (auto v = q.Ulong(CKA_KEY_TYPE)) fq.key_type = *v;
    if (const Bytes* v = q.Find(CKA_LABEL)) fq.label = *v;
    if (const Bytes* v = q.Find(CKA_ID)) fq.id = *v;
    for (const StoredObject& row : store_->Find(fq)) {
      if (row.damaged) {
        // Its columns (owner, label, attributes) may be the attacker's: reported to this search
        // whoever it now claims to belong to, and using it fails naming it.
        found.push_back(row.handle);
        continue;
      }
      Object meta;
      meta.cls = row.cls;
      meta.key_type = row.key_type;
      meta.owner = row.owner;
      meta.shared_with = row.shared_with;
      try {
        meta.attrs = Attributes::FromTemplate(DecodeTemplate(row.attrs));
      } catch (const Error&) {
        // A damaged row is reported, never hidden: it matched the indexed columns, and using it fails
        // with CKR_SEALHSM_INTEGRITY_FAILURE naming it.
        if (Visible(meta, c)) found.push_back(row.handle);
        continue;
      }
      if (Visible(meta, c) && meta.attrs.Matches(q)) found.push_back(row.handle);
    }
    // A damaged row could have matched any search (its indexed columns may be edited too).
    for (CK_OBJECT_HANDLE h : store_->Damaged()) found.push_back(h);
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

void Token::FindInit(Session& s, const Template& t) {
  std::vector<CK_OBJECT_HANDLE> found = FindObjects(s, t);
  std::lock_guard lock(s.mu);
  if (s.find_active) Fail(CKR_OPERATION_ACTIVE, "a search is already active on this session");
  s.find_active = true;
  s.find_results = std::move(found);
  s.find_pos = 0;
}

std::vector<CK_OBJECT_HANDLE> Token::FindNext(Session& s, std::size_t max) {
  std::lock_guard lock(s.mu);
  if (!s.find_active) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active search");
  std::size_t n = std::min(max, s.find_results.size() - s.find_pos);
  std::vector<CK_OBJECT_HANDLE> out(s.find_results.begin() + static_cast<long>(s.find_pos),
                                    s.find_results.begin() + static_cast<long>(s.find_pos + n));
  s.find_pos += n;
  return out;
}

std::size_t Token::FindRemaining(Session& s) {
  std::lock_guard lock(s.mu);
  if (!s.find_active) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active search");
  return s.find_results.size() - s.find_pos;
}

void Token::FindFinal(Session& s) {
  std::lock_guard lock(s.mu);
  if (!s.find_active) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active search");
  s.find_active = false;
  s.find_results.clear();
}

void Token::ShareKey(Session&, CK_OBJECT_HANDLE h, const std::string& raw, bool share) {
  if (!profile_.ownership) Fail(CKR_FUNCTION_NOT_SUPPORTED, std::string("keys have no owners in the ") + profile_.name + " profile");
  ObjectRef obj = Owned(h, CKR_KEY_HANDLE_INVALID, CKR_ACTION_PROHIBITED, share ? "share" : "unshare");
  if (obj->cls == CKO_PUBLIC_KEY) Fail(CKR_ARGUMENTS_BAD, "public keys are visible to every crypto user already");
  std::string user;
  {
    std::lock_guard lock(auth_mu_);
    user = users_.NormalizeName(raw);
    const User* u = users_.Find(user);
    if (u == nullptr || u->role != Role::kCryptoUser) Fail(CKR_ARGUMENTS_BAD, "'" + user + "' is not a crypto user");
  }
  if (user == obj->owner) Fail(CKR_ARGUMENTS_BAD, "'" + user + "' owns the key");
  if (share == (obj->shared_with.count(user) != 0)) {
    Fail(CKR_ARGUMENTS_BAD, "the key is " + std::string(share ? "already" : "not") + " shared with '" + user + "'");
  }
  auto next = hsm::CopyObject(*obj);
  if (share) {
    next->shared_with.insert(user);
  } else {
    next->shared_with.erase(user);
  }
  Replace(h, obj, std::move(next));
}

KeyOwnership Token::Ownership(Session&, CK_OBJECT_HANDLE h) {
  ObjectRef obj = Lookup(h, CKR_OBJECT_HANDLE_INVALID);
  return {obj->owner, std::vector<std::string>(obj->shared_with.begin(), obj->shared_with.end())};
}

void Token::DropSessionObjects(CK_SESSION_HANDLE h) {
  std::unique_lock lock(mu_);
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (it->second->creator != h) {
      ++it;
      continue;
    }
    Tally(it->first, *it->second, -1);
    it = objects_.erase(it);
  }
}

}  // namespace hsm
