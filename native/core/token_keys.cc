// native/core/token_keys.cc
// Key management of a token (PKCS#11 v3.0 §5.14): C_GenerateKey, C_GenerateKeyPair (both halves in
// one store transaction), C_WrapKey, C_UnwrapKey and C_DeriveKey, with the template, ownership and
// wrap rules the profile sets. No N-API or C ABI here.
#include <algorithm>

#include "keys.h"
#include "pkcs8.h"
#include "token.h"
#include "token_rules.h"

namespace hsm {

namespace {

void ExpectClassAndType(const Attributes& t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt) {
  if (auto c = t.Ulong(CKA_CLASS); c && *c != cls) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_CLASS does not match what the mechanism makes");
  if (auto k = t.Ulong(CKA_KEY_TYPE); k && *k != kt) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_KEY_TYPE does not match what the mechanism makes");
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

CK_OBJECT_HANDLE Token::GenerateKey(Session& s, const MechParams& m, const Template& tmpl) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_GENERATE);
  Attributes t = Attributes::FromTemplate(tmpl);
  ExpectClassAndType(t, CKO_SECRET_KEY, mech.gen_key_type);
  ValidateTemplate(t, CKO_SECRET_KEY, mech.gen_key_type, TemplateUse::kGenerate, profile_.inapplicable_attribute);
  CheckTemplateForProfile(profile_, t, CKO_SECRET_KEY, mech.gen_key_type);
  // A public session may make what it could create: a non-private key (PKCS#11 §4.4 CKA_PRIVATE).
  std::string owner = RequireCreator(t.BoolOr(CKA_PRIVATE, true));
  auto obj = NewKeyObject(t, CKO_SECRET_KEY, mech.gen_key_type);
  obj->secret = mech.gen_secret(t, mech.gen_key_type);
  obj->attrs.Erase(CKA_VALUE_LEN);
  Finish(*obj, KeyOrigin::kGenerated, m.type);
  obj->owner = owner;
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
  ValidateTemplate(pt, CKO_PUBLIC_KEY, kt, TemplateUse::kGenerate, profile_.inapplicable_attribute);
  ValidateTemplate(st, CKO_PRIVATE_KEY, kt, TemplateUse::kGenerate, profile_.inapplicable_attribute);
  CheckTemplateForProfile(profile_, pt, CKO_PUBLIC_KEY, kt);
  CheckTemplateForProfile(profile_, st, CKO_PRIVATE_KEY, kt);
  if (const Bytes* sp = st.Find(CKA_EC_PARAMS); sp && pt.Has(CKA_EC_PARAMS) && *sp != pt.Get(CKA_EC_PARAMS)) {
    Fail(CKR_TEMPLATE_INCONSISTENT, "public and private CKA_EC_PARAMS differ");
  }
  if (kt != CKK_RSA && !pt.Has(CKA_EC_PARAMS) && st.Has(CKA_EC_PARAMS)) pt.Set(CKA_EC_PARAMS, st.Get(CKA_EC_PARAMS));
  std::string owner = RequireCreator(pt.BoolOr(CKA_PRIVATE, profile_.private_must_be_true) || st.BoolOr(CKA_PRIVATE, true));
  KeyGenResult gen = mech.gen_pair(pt, profile_.min_rsa_keygen_bits);
  auto pub = NewKeyObject(pt, CKO_PUBLIC_KEY, kt);
  auto priv = NewKeyObject(st, CKO_PRIVATE_KEY, kt);
  pub->attrs.Erase(CKA_MODULUS_BITS);
  priv->pkey = std::move(gen.pkey);
  pub->curve = priv->curve = gen.curve;
  // The public value is read out of OpenSSL once for the public key object and both halves' attributes.
  const Bytes raw = kt == CKK_RSA ? Bytes() : RawPublicKey(*priv);
  const Bytes* raw_public = kt == CKK_RSA ? nullptr : &raw;
  pub->pkey = PublicOnly(*priv, raw_public);
  Finish(*pub, KeyOrigin::kGenerated, m.type, raw_public);
  Finish(*priv, KeyOrigin::kGenerated, m.type, raw_public);
  pub->owner = priv->owner = owner;
  if ((pub->IsTokenObject() || priv->IsTokenObject()) && !s.ReadWrite()) Fail(CKR_SESSION_READ_ONLY, "token objects need a read-write session");
  if (store_ && pub->IsTokenObject() && priv->IsTokenObject()) {
    std::vector<CK_OBJECT_HANDLE> h = StoreTokenObjects({std::move(pub), std::move(priv)});  // one transaction
    return {h[0], h[1]};
  }
  {
    auto [stored_keys, stored_asym] = store_ ? store_->CountKeys() : std::pair<std::size_t, std::size_t>{0, 0};
    std::shared_lock lock(mu_);
    CheckQuota(2, 2, stored_keys, stored_asym);
  }
  bool stored_pub = store_ && pub->IsTokenObject();
  CK_OBJECT_HANDLE hpub = Store(s, std::move(pub));
  try {
    return {hpub, Store(s, std::move(priv))};
  } catch (...) {
    if (stored_pub) store_->Delete(hpub);  // a mixed pair (one half a session object) is not one transaction
    std::unique_lock lock(mu_);
    if (auto it = objects_.find(hpub); it != objects_.end()) {
      Tally(hpub, *it->second, -1);
      objects_.erase(it);
    }
    throw;
  }
}

Bytes Token::WrapKey(Session&, const MechParams& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key_handle, Bytes* iv_out) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_WRAP);
  ObjectRef wk = UsableKey(wrapping, mech, CKA_WRAP, CKR_WRAPPING_KEY_HANDLE_INVALID);
  ObjectRef key = Owned(key_handle, CKR_KEY_HANDLE_INVALID, CKR_KEY_NOT_WRAPPABLE, "wrap");
  if (key->sealed_away) Fail(CKR_KEY_HANDLE_INVALID, "the key's material is sealed for its owner and the users it is shared with");
  if (key->cls != CKO_SECRET_KEY && key->cls != CKO_PRIVATE_KEY) Fail(CKR_KEY_NOT_WRAPPABLE, "only secret and private keys are wrapped");
  if (!key->Flag(CKA_EXTRACTABLE)) Fail(CKR_KEY_UNEXTRACTABLE, "the key's CKA_EXTRACTABLE is false");
  if (key->Flag(CKA_WRAP_WITH_TRUSTED) && !wk->Flag(CKA_TRUSTED)) Fail(CKR_KEY_NOT_WRAPPABLE, "the key may only be wrapped by a trusted key");
  if (const Bytes* wt = wk->attrs.Find(CKA_WRAP_TEMPLATE)) {
    if (!key->attrs.Matches(Attributes::FromTemplate(DecodeTemplate(*wt)))) {
      Fail(CKR_KEY_NOT_WRAPPABLE, "the key does not match the wrapping key's CKA_WRAP_TEMPLATE");
    }
  }
  SecureBytes plain = key->cls == CKO_SECRET_KEY ? key->secret.CloneSecret() : EncodePkcs8(*key);
  try {
    std::unique_ptr<CipherOp> op = NewCipher(m, *wk, true);
    Bytes out = op->Once(plain.view());
    if (iv_out != nullptr && op->GeneratedIv() != nullptr) *iv_out = *op->GeneratedIv();
    return out;
  } catch (const Error& e) {
    if (e.rv() == CKR_DATA_LEN_RANGE) Fail(CKR_KEY_SIZE_RANGE, e.what());
    throw;
  }
}

CK_OBJECT_HANDLE Token::UnwrapKey(Session& s, const MechParams& m, CK_OBJECT_HANDLE unwrapping, ByteView wrapped, const Template& tmpl) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_UNWRAP);
  ObjectRef uk = UsableKey(unwrapping, mech, CKA_UNWRAP, CKR_UNWRAPPING_KEY_HANDLE_INVALID);
  Template full = tmpl;
  if (const Bytes* ut = uk->attrs.Find(CKA_UNWRAP_TEMPLATE)) {
    Template forced = DecodeTemplate(*ut);
    full.insert(full.end(), forced.begin(), forced.end());  // a conflicting value → TEMPLATE_INCONSISTENT
  }
  Attributes t = Attributes::FromTemplate(full);
  CK_OBJECT_CLASS cls = RequiredClass(t);
  auto kt = t.Ulong(CKA_KEY_TYPE);
  if (!kt) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
  if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY) Fail(CKR_TEMPLATE_INCONSISTENT, "only secret and private keys are unwrapped");
  ValidateTemplate(t, cls, *kt, TemplateUse::kUnwrap, profile_.inapplicable_attribute);
  CheckTemplateForProfile(profile_, t, cls, *kt);
  std::string owner = RequireCreator(true);
  std::size_t want = t.Ulong(CKA_VALUE_LEN).value_or(0);
  MechParams params = m;
  params.value_len = want;
  Bytes plain = AsUnwrap([&] { return NewCipher(params, *uk, false)->Once(wrapped); });
  auto obj = NewKeyObject(t, cls, *kt);
  if (cls == CKO_SECRET_KEY) {
    std::size_t len = plain.size();
    if (want != 0) {
      if (want > len) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_VALUE_LEN is longer than the unwrapped key");
      len = want;
    }
    CheckSecretLength(*kt, len, CKR_WRAPPED_KEY_INVALID);
    obj->secret = SecureBytes(ByteView(plain.data(), len));
    obj->attrs.Erase(CKA_VALUE_LEN);
  } else {
    // A zero-padding wrap (CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD) leaves zeros after the key: the DER
    // length says where it ends. Anything but zeros after it is refused as before.
    std::size_t der_len = DerElementLength(plain);
    bool zero_tail = der_len > 0 && std::all_of(plain.begin() + static_cast<long>(der_len), plain.end(), [](uint8_t b) { return b == 0; });
    ByteView key_der(plain.data(), zero_tail ? der_len : plain.size());
    obj->pkey = AsUnwrap([&] { return DecodePkcs8(key_der, *kt, &obj->curve); });
  }
  Finish(*obj, KeyOrigin::kUnwrapped, CK_UNAVAILABLE_INFORMATION);
  obj->owner = owner;
  return Store(s, std::move(obj));
}

CK_OBJECT_HANDLE Token::DeriveKey(Session& s, const MechParams& m, CK_OBJECT_HANDLE base_handle, const Template& tmpl) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_DERIVE);
  ObjectRef base = UsableKey(base_handle, mech, CKA_DERIVE, CKR_KEY_HANDLE_INVALID);
  (void)Owned(base_handle, CKR_KEY_HANDLE_INVALID, CKR_KEY_FUNCTION_NOT_PERMITTED, "derive from");
  Attributes t = Attributes::FromTemplate(tmpl);
  CK_OBJECT_CLASS cls = t.Ulong(CKA_CLASS).value_or(CKO_SECRET_KEY);
  if (cls != CKO_SECRET_KEY) Fail(CKR_TEMPLATE_INCONSISTENT, "derived keys are secret keys");
  auto kt = t.Ulong(CKA_KEY_TYPE);
  if (!kt) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_KEY_TYPE is required");
  if (*kt != CKK_AES && *kt != CKK_GENERIC_SECRET) Fail(CKR_TEMPLATE_INCONSISTENT, "derived keys are AES or generic secrets");
  ValidateTemplate(t, cls, *kt, TemplateUse::kDerive, profile_.inapplicable_attribute);
  CheckTemplateForProfile(profile_, t, cls, *kt);
  std::string owner = RequireCreator(true);
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
  obj->owner = owner;
  return Store(s, std::move(obj));
}

}  // namespace hsm
