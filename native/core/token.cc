// native/core/token.cc
// Objects and operations of a token. Key checks follow PKCS#11 v3.0 §5: wrong class or key type →
// CKR_KEY_TYPE_INCONSISTENT, usage attribute false → CKR_KEY_FUNCTION_NOT_PERMITTED, size outside
// the mechanism's range → CKR_KEY_SIZE_RANGE.
#include "token.h"

#include <cstring>
#include <mutex>

#include "keys.h"

namespace hsm {

namespace {

CK_OBJECT_CLASS RequiredClass(const Attributes& t) {
  auto cls = t.Ulong(CKA_CLASS);
  if (!cls) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_CLASS is required");
  return *cls;
}

// Checks a template's CKA_CLASS / CKA_KEY_TYPE against what an operation produces.
void ExpectClassAndType(const Attributes& t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt) {
  if (auto c = t.Ulong(CKA_CLASS); c && *c != cls) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_CLASS does not match what the mechanism makes");
  if (auto k = t.Ulong(CKA_KEY_TYPE); k && *k != kt) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_KEY_TYPE does not match what the mechanism makes");
}

bool ClassDoes(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE usage) {
  switch (usage) {
    case CKA_ENCRYPT: case CKA_VERIFY: case CKA_WRAP: return cls == CKO_PUBLIC_KEY || cls == CKO_SECRET_KEY;
    case CKA_DECRYPT: case CKA_SIGN: case CKA_UNWRAP: case CKA_DERIVE: return cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
    default: return false;
  }
}

// Runs f and converts the errors a decrypt reports into the ones C_UnwrapKey reports.
template <typename F>
auto AsUnwrap(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    if (e.rv() == CKR_ENCRYPTED_DATA_INVALID) Fail(CKR_WRAPPED_KEY_INVALID, e.what());
    if (e.rv() == CKR_ENCRYPTED_DATA_LEN_RANGE) Fail(CKR_WRAPPED_KEY_LEN_RANGE, e.what());
    throw;
  }
}

}  // namespace

std::size_t Token::ObjectCount() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

ObjectRef Token::Lookup(CK_OBJECT_HANDLE h, CK_RV invalid) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(h);
  if (it == objects_.end()) Fail(invalid, "no object with handle " + std::to_string(h));
  return it->second;
}

CK_OBJECT_HANDLE Token::Store(Session& s, std::shared_ptr<Object> obj) {
  if (obj->IsTokenObject() && !s.ReadWrite()) Fail(CKR_SESSION_READ_ONLY, "token objects need a read-write session");
  obj->creator = obj->IsTokenObject() ? 0 : s.handle;
  std::unique_lock lock(mu_);
  CK_OBJECT_HANDLE h = next_handle_++;
  objects_.emplace(h, std::move(obj));
  return h;
}

const MechanismInfo& Token::MechanismFor(CK_MECHANISM_TYPE type, CK_FLAGS function) const {
  const MechanismInfo* m = FindMechanism(type);
  if (m == nullptr || (m->flags & function) == 0) Fail(CKR_MECHANISM_INVALID, "mechanism 0x" + [&] {
    char b[20]; snprintf(b, sizeof b, "%lx", type); return std::string(b); }() + " cannot do that here");
  return *m;
}

ObjectRef Token::UsableKey(CK_OBJECT_HANDLE h, const MechanismInfo& m, CK_ATTRIBUTE_TYPE usage, CK_RV invalid) const {
  ObjectRef key = Lookup(h, invalid);
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

std::unique_ptr<CipherOp> Token::NewCipher(const MechParams& m, const Object& key, bool encrypt) const {
  const MechanismInfo* info = FindMechanism(m.type);
  if (info == nullptr || info->cipher == nullptr) Fail(CKR_MECHANISM_INVALID, "no cipher for this mechanism");
  return info->cipher(key, m, encrypt);
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

void Token::Finish(Object& obj, KeyOrigin origin, CK_MECHANISM_TYPE gen_mech) const {
  ApplyDefaults(profile_, obj, origin, gen_mech);
  if (obj.cls == CKO_SECRET_KEY) SetSecretAttributes(obj);
  if (obj.cls == CKO_PUBLIC_KEY || obj.cls == CKO_PRIVATE_KEY) SetPublicAttributes(obj);
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
    bool secret_kt = kt == CKK_AES || kt == CKK_GENERIC_SECRET;
    if (secret_kt != (cls == CKO_SECRET_KEY)) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_KEY_TYPE does not fit CKA_CLASS");
  } else if (cls != CKO_DATA && cls != CKO_CERTIFICATE) {
    Fail(CKR_ATTRIBUTE_VALUE_INVALID, "unsupported CKA_CLASS");
  }
  ValidateTemplate(t, cls, kt, TemplateUse::kCreate);
  auto obj = NewKeyObject(t, cls, kt);
  if (key) MaterialFromTemplate(*obj, obj->attrs);
  if (cls == CKO_CERTIFICATE && !t.Has(CKA_CERTIFICATE_TYPE)) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_CERTIFICATE_TYPE is required");
  Finish(*obj, KeyOrigin::kCreated, CK_UNAVAILABLE_INFORMATION);
  return Store(s, std::move(obj));
}

void Token::DestroyObject(Session& s, CK_OBJECT_HANDLE h) {
  ObjectRef obj = Lookup(h, CKR_OBJECT_HANDLE_INVALID);
  if (!obj->attrs.BoolOr(CKA_DESTROYABLE, true)) Fail(CKR_ACTION_PROHIBITED, "the object's CKA_DESTROYABLE is false");
  if (obj->IsTokenObject() && !s.ReadWrite()) Fail(CKR_SESSION_READ_ONLY, "destroying a token object needs a read-write session");
  std::unique_lock lock(mu_);
  objects_.erase(h);
}

std::vector<AttributeValue> Token::GetAttributes(Session&, CK_OBJECT_HANDLE h, const std::vector<CK_ATTRIBUTE_TYPE>& types) {
  ObjectRef obj = Lookup(h, CKR_OBJECT_HANDLE_INVALID);
  std::vector<AttributeValue> out;
  out.reserve(types.size());
  for (CK_ATTRIBUTE_TYPE type : types) {
    AttributeValue v{type, CKR_OK, {}};
    const AttrRule* rule = FindRule(type, obj->cls, obj->key_type);
    if (rule != nullptr && (rule->origin & kSecretPart)) {
      bool readable = obj->cls == CKO_SECRET_KEY && profile_.secret_value_readable && !obj->Flag(CKA_SENSITIVE) &&
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

std::vector<CK_OBJECT_HANDLE> Token::FindObjects(Session&, const Template& tmpl) {
  Attributes q = Attributes::FromTemplate(tmpl);
  std::vector<CK_OBJECT_HANDLE> found;
  std::shared_lock lock(mu_);
  for (const auto& [h, obj] : objects_) {
    if (obj->attrs.Matches(q)) found.push_back(h);
  }
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

void Token::FindFinal(Session& s) {
  std::lock_guard lock(s.mu);
  if (!s.find_active) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active search");
  s.find_active = false;
  s.find_results.clear();
}

void Token::DropSessionObjects(CK_SESSION_HANDLE h) {
  std::unique_lock lock(mu_);
  for (auto it = objects_.begin(); it != objects_.end();) {
    it = it->second->creator == h ? objects_.erase(it) : std::next(it);
  }
}

// ---------------------------------------------------------------- keys

CK_OBJECT_HANDLE Token::GenerateKey(Session& s, const MechParams& m, const Template& tmpl) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_GENERATE);
  Attributes t = Attributes::FromTemplate(tmpl);
  ExpectClassAndType(t, CKO_SECRET_KEY, mech.gen_key_type);
  ValidateTemplate(t, CKO_SECRET_KEY, mech.gen_key_type, TemplateUse::kGenerate);
  auto obj = NewKeyObject(t, CKO_SECRET_KEY, mech.gen_key_type);
  obj->secret = mech.gen_secret(t, mech.gen_key_type);
  obj->attrs.Erase(CKA_VALUE_LEN);
  Finish(*obj, KeyOrigin::kGenerated, m.type);
  return Store(s, std::move(obj));
}

std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> Token::GenerateKeyPair(Session& s, const MechParams& m, const Template& pub_tmpl,
                                                                     const Template& priv_tmpl) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_GENERATE_KEY_PAIR);
  CK_KEY_TYPE kt = mech.gen_key_type;
  Attributes pt = Attributes::FromTemplate(pub_tmpl);
  Attributes st = Attributes::FromTemplate(priv_tmpl);
  ExpectClassAndType(pt, CKO_PUBLIC_KEY, kt);
  ExpectClassAndType(st, CKO_PRIVATE_KEY, kt);
  ValidateTemplate(pt, CKO_PUBLIC_KEY, kt, TemplateUse::kGenerate);
  ValidateTemplate(st, CKO_PRIVATE_KEY, kt, TemplateUse::kGenerate);
  if (const Bytes* sp = st.Find(CKA_EC_PARAMS); sp && pt.Has(CKA_EC_PARAMS) && *sp != pt.Get(CKA_EC_PARAMS)) {
    Fail(CKR_TEMPLATE_INCONSISTENT, "public and private CKA_EC_PARAMS differ");
  }
  if (kt != CKK_RSA && !pt.Has(CKA_EC_PARAMS) && st.Has(CKA_EC_PARAMS)) pt.Set(CKA_EC_PARAMS, st.Get(CKA_EC_PARAMS));
  KeyGenResult gen = mech.gen_pair(pt);
  auto pub = NewKeyObject(pt, CKO_PUBLIC_KEY, kt);
  auto priv = NewKeyObject(st, CKO_PRIVATE_KEY, kt);
  pub->attrs.Erase(CKA_MODULUS_BITS);
  priv->pkey = std::move(gen.pkey);
  pub->curve = priv->curve = gen.curve;
  pub->pkey = PublicOnly(*priv);
  Finish(*pub, KeyOrigin::kGenerated, m.type);
  Finish(*priv, KeyOrigin::kGenerated, m.type);
  if (priv->IsTokenObject() && !s.ReadWrite()) Fail(CKR_SESSION_READ_ONLY, "token objects need a read-write session");
  CK_OBJECT_HANDLE hpub = Store(s, std::move(pub));
  try {
    return {hpub, Store(s, std::move(priv))};
  } catch (...) {
    std::unique_lock lock(mu_);
    objects_.erase(hpub);
    throw;
  }
}

Bytes Token::WrapKey(Session&, const MechParams& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key_handle) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_WRAP);
  ObjectRef wk = UsableKey(wrapping, mech, CKA_WRAP, CKR_WRAPPING_KEY_HANDLE_INVALID);
  ObjectRef key = Lookup(key_handle, CKR_KEY_HANDLE_INVALID);
  if (key->cls != CKO_SECRET_KEY && key->cls != CKO_PRIVATE_KEY) Fail(CKR_KEY_NOT_WRAPPABLE, "only secret and private keys are wrapped");
  if (!key->Flag(CKA_EXTRACTABLE)) Fail(CKR_KEY_UNEXTRACTABLE, "the key's CKA_EXTRACTABLE is false");
  if (key->Flag(CKA_WRAP_WITH_TRUSTED) && !wk->Flag(CKA_TRUSTED)) Fail(CKR_KEY_NOT_WRAPPABLE, "the key may only be wrapped by a trusted key");
  SecureBytes plain = key->cls == CKO_SECRET_KEY ? key->secret.CloneSecret() : EncodePkcs8(key->pkey.get());
  try {
    return NewCipher(m, *wk, true)->Once(plain.view());
  } catch (const Error& e) {
    if (e.rv() == CKR_DATA_LEN_RANGE) Fail(CKR_KEY_SIZE_RANGE, e.what());
    throw;
  }
}

CK_OBJECT_HANDLE Token::UnwrapKey(Session& s, const MechParams& m, CK_OBJECT_HANDLE unwrapping, ByteView wrapped, const Template& tmpl) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_UNWRAP);
  ObjectRef uk = UsableKey(unwrapping, mech, CKA_UNWRAP, CKR_UNWRAPPING_KEY_HANDLE_INVALID);
  Attributes t = Attributes::FromTemplate(tmpl);
  CK_OBJECT_CLASS cls = RequiredClass(t);
  auto kt = t.Ulong(CKA_KEY_TYPE);
  if (!kt) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
  if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY) Fail(CKR_TEMPLATE_INCONSISTENT, "only secret and private keys are unwrapped");
  ValidateTemplate(t, cls, *kt, TemplateUse::kUnwrap);
  Bytes plain = AsUnwrap([&] { return NewCipher(m, *uk, false)->Once(wrapped); });
  auto obj = NewKeyObject(t, cls, *kt);
  if (cls == CKO_SECRET_KEY) {
    std::size_t len = plain.size();
    if (auto want = t.Ulong(CKA_VALUE_LEN)) {
      if (*want > len) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_VALUE_LEN is longer than the unwrapped key");
      len = *want;
    }
    CheckSecretLength(*kt, len, CKR_WRAPPED_KEY_INVALID);
    obj->secret = SecureBytes(ByteView(plain.data(), len));
    obj->attrs.Erase(CKA_VALUE_LEN);
  } else {
    obj->pkey = AsUnwrap([&] { return DecodePkcs8(plain, *kt, &obj->curve); });
  }
  Finish(*obj, KeyOrigin::kUnwrapped, CK_UNAVAILABLE_INFORMATION);
  return Store(s, std::move(obj));
}

CK_OBJECT_HANDLE Token::DeriveKey(Session& s, const MechParams& m, CK_OBJECT_HANDLE base_handle, const Template& tmpl) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_DERIVE);
  ObjectRef base = UsableKey(base_handle, mech, CKA_DERIVE, CKR_KEY_HANDLE_INVALID);
  Attributes t = Attributes::FromTemplate(tmpl);
  CK_OBJECT_CLASS cls = t.Ulong(CKA_CLASS).value_or(CKO_SECRET_KEY);
  if (cls != CKO_SECRET_KEY) Fail(CKR_TEMPLATE_INCONSISTENT, "derived keys are secret keys");
  auto kt = t.Ulong(CKA_KEY_TYPE);
  if (!kt) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
  if (*kt != CKK_AES && *kt != CKK_GENERIC_SECRET) Fail(CKR_TEMPLATE_INCONSISTENT, "derived keys are AES or generic secrets");
  ValidateTemplate(t, cls, *kt, TemplateUse::kDerive);
  MechParams params = m;
  if (params.salt_type == CKF_HKDF_SALT_KEY) {
    ObjectRef salt = Lookup(Need(params.salt_key, "saltKey"), CKR_MECHANISM_PARAM_INVALID);
    if (salt->cls != CKO_SECRET_KEY || !salt->Flag(CKA_DERIVE)) Fail(CKR_MECHANISM_PARAM_INVALID, "the salt key must be a secret key with CKA_DERIVE");
    params.salt = ToBytes(salt->secret.view());
  }
  std::size_t len = t.Ulong(CKA_VALUE_LEN).value_or(0);
  auto obj = NewKeyObject(t, cls, *kt);
  obj->secret = mech.derive(*base, params, len);
  CheckSecretLength(*kt, obj->secret.size(), CKR_KEY_SIZE_RANGE);
  obj->attrs.Erase(CKA_VALUE_LEN);
  Finish(*obj, KeyOrigin::kDerived, CK_UNAVAILABLE_INFORMATION);
  obj->attrs.SetBool(CKA_ALWAYS_SENSITIVE, base->Flag(CKA_ALWAYS_SENSITIVE) && obj->Flag(CKA_SENSITIVE));
  obj->attrs.SetBool(CKA_NEVER_EXTRACTABLE, base->Flag(CKA_NEVER_EXTRACTABLE) && !obj->Flag(CKA_EXTRACTABLE));
  return Store(s, std::move(obj));
}

// ---------------------------------------------------------------- encrypt / decrypt

void Token::CipherInit(Session& s, bool encrypt, const MechParams& m, CK_OBJECT_HANDLE key_handle) {
  const MechanismInfo& mech = MechanismFor(m.type, encrypt ? CKF_ENCRYPT : CKF_DECRYPT);
  ObjectRef key = UsableKey(key_handle, mech, encrypt ? CKA_ENCRYPT : CKA_DECRYPT, CKR_KEY_HANDLE_INVALID);
  std::lock_guard lock(s.mu);
  auto& slot = encrypt ? s.encrypt : s.decrypt;
  if (slot) Fail(CKR_OPERATION_ACTIVE, encrypt ? "an encryption is already active" : "a decryption is already active");
  std::unique_ptr<CipherOp> op = NewCipher(m, *key, encrypt);
  slot = ActiveCipher{std::move(key), std::move(op)};  // the op keeps its key alive
}

Bytes Token::CipherUpdate(Session& s, bool encrypt, ByteView in) {
  std::lock_guard lock(s.mu);
  auto& slot = encrypt ? s.encrypt : s.decrypt;
  if (!slot) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation");
  try {
    return slot->op->Update(in);
  } catch (...) {
    slot.reset();
    throw;
  }
}

Bytes Token::CipherFinal(Session& s, bool encrypt) {
  std::lock_guard lock(s.mu);
  auto& slot = encrypt ? s.encrypt : s.decrypt;
  if (!slot) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation");
  std::optional<ActiveCipher> active = std::move(slot);
  slot.reset();
  return active->op->Final();
}

Bytes Token::CipherSingle(Session& s, bool encrypt, ByteView in) {
  std::lock_guard lock(s.mu);
  auto& slot = encrypt ? s.encrypt : s.decrypt;
  if (!slot) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation");
  std::optional<ActiveCipher> active = std::move(slot);
  slot.reset();
  return active->op->Once(in);
}

Bytes Token::Crypt(Session& s, bool encrypt, const MechParams& m, CK_OBJECT_HANDLE key_handle, ByteView in) {
  const MechanismInfo& mech = MechanismFor(m.type, encrypt ? CKF_ENCRYPT : CKF_DECRYPT);
  ObjectRef key = UsableKey(key_handle, mech, encrypt ? CKA_ENCRYPT : CKA_DECRYPT, CKR_KEY_HANDLE_INVALID);
  {
    std::lock_guard lock(s.mu);
    if (encrypt ? s.encrypt.has_value() : s.decrypt.has_value()) Fail(CKR_OPERATION_ACTIVE, "a multi-part operation is active on this session");
  }
  return NewCipher(m, *key, encrypt)->Once(in);
}

// ---------------------------------------------------------------- sign / verify

void Token::SignInit(Session& s, bool sign, const MechParams& m, CK_OBJECT_HANDLE key_handle) {
  const MechanismInfo& mech = MechanismFor(m.type, sign ? CKF_SIGN : CKF_VERIFY);
  ObjectRef key = UsableKey(key_handle, mech, sign ? CKA_SIGN : CKA_VERIFY, CKR_KEY_HANDLE_INVALID);
  std::lock_guard lock(s.mu);
  auto& slot = sign ? s.sign : s.verify;
  if (slot) Fail(CKR_OPERATION_ACTIVE, sign ? "a signature is already active" : "a verification is already active");
  std::unique_ptr<SignOp> op = NewSigner(m, *key, sign);
  slot = ActiveSign{std::move(key), &mech, std::move(op), false};
}

void Token::SignUpdate(Session& s, bool sign, ByteView in) {
  std::lock_guard lock(s.mu);
  auto& slot = sign ? s.sign : s.verify;
  if (!slot) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation");
  if (!slot->mech->multipart) {
    slot.reset();
    Fail(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism is single-part; use C_Sign / C_Verify");
  }
  slot->updated = true;
  try {
    slot->op->Update(in);
  } catch (...) {
    slot.reset();
    throw;
  }
}

Bytes Token::SignFinal(Session& s) {
  std::lock_guard lock(s.mu);
  if (!s.sign) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active signature");
  std::optional<ActiveSign> active = std::move(s.sign);
  s.sign.reset();
  return active->op->Sign();
}

void Token::VerifyFinal(Session& s, ByteView sig) {
  std::lock_guard lock(s.mu);
  if (!s.verify) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active verification");
  std::optional<ActiveSign> active = std::move(s.verify);
  s.verify.reset();
  active->op->Verify(sig);
}

Bytes Token::SignSingle(Session& s, ByteView in) {
  std::lock_guard lock(s.mu);
  if (!s.sign) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active signature");
  std::optional<ActiveSign> active = std::move(s.sign);
  s.sign.reset();
  active->op->Update(in);
  return active->op->Sign();
}

void Token::VerifySingle(Session& s, ByteView in, ByteView sig) {
  std::lock_guard lock(s.mu);
  if (!s.verify) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active verification");
  std::optional<ActiveSign> active = std::move(s.verify);
  s.verify.reset();
  active->op->Update(in);
  active->op->Verify(sig);
}

Bytes Token::SignOnce(Session& s, const MechParams& m, CK_OBJECT_HANDLE key_handle, ByteView in) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_SIGN);
  ObjectRef key = UsableKey(key_handle, mech, CKA_SIGN, CKR_KEY_HANDLE_INVALID);
  {
    std::lock_guard lock(s.mu);
    if (s.sign) Fail(CKR_OPERATION_ACTIVE, "a multi-part signature is active on this session");
  }
  std::unique_ptr<SignOp> op = NewSigner(m, *key, true);
  op->Update(in);
  return op->Sign();
}

void Token::VerifyOnce(Session& s, const MechParams& m, CK_OBJECT_HANDLE key_handle, ByteView in, ByteView sig) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_VERIFY);
  ObjectRef key = UsableKey(key_handle, mech, CKA_VERIFY, CKR_KEY_HANDLE_INVALID);
  {
    std::lock_guard lock(s.mu);
    if (s.verify) Fail(CKR_OPERATION_ACTIVE, "a multi-part verification is active on this session");
  }
  std::unique_ptr<SignOp> op = NewSigner(m, *key, false);
  op->Update(in);
  op->Verify(sig);
}

// ---------------------------------------------------------------- digest

void Token::DigestInit(Session& s, const MechParams& m) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_DIGEST);
  std::lock_guard lock(s.mu);
  if (s.digest) Fail(CKR_OPERATION_ACTIVE, "a digest is already active");
  s.digest = mech.digest(m);
}

void Token::DigestUpdate(Session& s, ByteView in) {
  std::lock_guard lock(s.mu);
  if (!s.digest) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active digest");
  s.digest->Update(in);
}

Bytes Token::DigestFinal(Session& s) {
  std::lock_guard lock(s.mu);
  if (!s.digest) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active digest");
  std::unique_ptr<DigestOp> op = std::move(s.digest);
  return op->Final();
}

Bytes Token::DigestOnce(Session& s, const MechParams& m, ByteView in) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_DIGEST);
  {
    std::lock_guard lock(s.mu);
    if (s.digest) Fail(CKR_OPERATION_ACTIVE, "a multi-part digest is active on this session");
  }
  std::unique_ptr<DigestOp> op = mech.digest(m);
  op->Update(in);
  return op->Final();
}

}  // namespace hsm
