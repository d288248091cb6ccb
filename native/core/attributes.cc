// native/core/attributes.cc
// Attribute map and the rule table (PKCS#11 v3.0 §4.4–4.10 tables "common ... attributes").
#include "attributes.h"

#include <cstring>
#include <string>

#include "error.h"

namespace hsm {

namespace {

constexpr unsigned C(CK_OBJECT_CLASS c) { return 1u << c; }
constexpr unsigned kKeys = C(CKO_PUBLIC_KEY) | C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY);
constexpr unsigned kAsym = C(CKO_PUBLIC_KEY) | C(CKO_PRIVATE_KEY);
constexpr unsigned kStorage = kKeys | C(CKO_DATA) | C(CKO_CERTIFICATE);

enum : unsigned { kRsa = 1u << 0, kEc = 1u << 1, kEdwards = 1u << 2, kAes = 1u << 3, kGeneric = 1u << 4, kDes3 = 1u << 5 };

const AttrRule kRules[] = {
    {CKA_CLASS, "CKA_CLASS", AttrKind::kUlong, kStorage, 0, kSetAnywhere},
    {CKA_TOKEN, "CKA_TOKEN", AttrKind::kBool, kStorage, 0, kSetAnywhere},
    {CKA_PRIVATE, "CKA_PRIVATE", AttrKind::kBool, kStorage, 0, kSetAnywhere},
    {CKA_MODIFIABLE, "CKA_MODIFIABLE", AttrKind::kBool, kStorage, 0, kSetAnywhere},
    {CKA_COPYABLE, "CKA_COPYABLE", AttrKind::kBool, kStorage, 0, kSetAnywhere},
    {CKA_DESTROYABLE, "CKA_DESTROYABLE", AttrKind::kBool, kStorage, 0, kSetAnywhere},
    {CKA_LABEL, "CKA_LABEL", AttrKind::kBytes, kStorage, 0, kSetAnywhere},
    {CKA_UNIQUE_ID, "CKA_UNIQUE_ID", AttrKind::kBytes, kStorage, 0, kTokenOnly},
    {CKA_APPLICATION, "CKA_APPLICATION", AttrKind::kBytes, C(CKO_DATA), 0, kSetAnywhere},
    {CKA_OBJECT_ID, "CKA_OBJECT_ID", AttrKind::kBytes, C(CKO_DATA), 0, kSetAnywhere},
    {CKA_CERTIFICATE_TYPE, "CKA_CERTIFICATE_TYPE", AttrKind::kUlong, C(CKO_CERTIFICATE), 0, kSetAnywhere},
    {CKA_ISSUER, "CKA_ISSUER", AttrKind::kBytes, C(CKO_CERTIFICATE), 0, kSetAnywhere},
    {CKA_SERIAL_NUMBER, "CKA_SERIAL_NUMBER", AttrKind::kBytes, C(CKO_CERTIFICATE), 0, kSetAnywhere},
    {CKA_TRUSTED, "CKA_TRUSTED", AttrKind::kBool, C(CKO_CERTIFICATE) | C(CKO_PUBLIC_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_CERTIFICATE_CATEGORY, "CKA_CERTIFICATE_CATEGORY", AttrKind::kUlong, C(CKO_CERTIFICATE), 0, kSetAnywhere},
    {CKA_CHECK_VALUE, "CKA_CHECK_VALUE", AttrKind::kBytes, C(CKO_CERTIFICATE) | C(CKO_SECRET_KEY), 0, kTokenOnly},
    {CKA_KEY_TYPE, "CKA_KEY_TYPE", AttrKind::kUlong, kKeys, 0, kSetAnywhere},
    {CKA_SUBJECT, "CKA_SUBJECT", AttrKind::kBytes, kAsym | C(CKO_CERTIFICATE), 0, kSetAnywhere},
    {CKA_ID, "CKA_ID", AttrKind::kBytes, kKeys | C(CKO_CERTIFICATE), 0, kSetAnywhere},
    {CKA_SENSITIVE, "CKA_SENSITIVE", AttrKind::kBool, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_ENCRYPT, "CKA_ENCRYPT", AttrKind::kBool, C(CKO_PUBLIC_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_DECRYPT, "CKA_DECRYPT", AttrKind::kBool, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_WRAP, "CKA_WRAP", AttrKind::kBool, C(CKO_PUBLIC_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_UNWRAP, "CKA_UNWRAP", AttrKind::kBool, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_SIGN, "CKA_SIGN", AttrKind::kBool, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_SIGN_RECOVER, "CKA_SIGN_RECOVER", AttrKind::kBool, C(CKO_PRIVATE_KEY), 0, kSetAnywhere},
    {CKA_VERIFY, "CKA_VERIFY", AttrKind::kBool, C(CKO_PUBLIC_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_VERIFY_RECOVER, "CKA_VERIFY_RECOVER", AttrKind::kBool, C(CKO_PUBLIC_KEY), 0, kSetAnywhere},
    {CKA_DERIVE, "CKA_DERIVE", AttrKind::kBool, kKeys, 0, kSetAnywhere},
    {CKA_START_DATE, "CKA_START_DATE", AttrKind::kBytes, kKeys, 0, kSetAnywhere},
    {CKA_END_DATE, "CKA_END_DATE", AttrKind::kBytes, kKeys, 0, kSetAnywhere},
    {CKA_MODULUS, "CKA_MODULUS", AttrKind::kBytes, kAsym, kRsa, kCreateOnly},
    {CKA_MODULUS_BITS, "CKA_MODULUS_BITS", AttrKind::kUlong, C(CKO_PUBLIC_KEY), kRsa, kGenerateOnly},
    {CKA_PUBLIC_EXPONENT, "CKA_PUBLIC_EXPONENT", AttrKind::kBytes, kAsym, kRsa, kSetAnywhere},
    {CKA_PRIVATE_EXPONENT, "CKA_PRIVATE_EXPONENT", AttrKind::kBytes, C(CKO_PRIVATE_KEY), kRsa, kCreateOnly | kSecretPart},
    {CKA_PRIME_1, "CKA_PRIME_1", AttrKind::kBytes, C(CKO_PRIVATE_KEY), kRsa, kCreateOnly | kSecretPart},
    {CKA_PRIME_2, "CKA_PRIME_2", AttrKind::kBytes, C(CKO_PRIVATE_KEY), kRsa, kCreateOnly | kSecretPart},
    {CKA_EXPONENT_1, "CKA_EXPONENT_1", AttrKind::kBytes, C(CKO_PRIVATE_KEY), kRsa, kCreateOnly | kSecretPart},
    {CKA_EXPONENT_2, "CKA_EXPONENT_2", AttrKind::kBytes, C(CKO_PRIVATE_KEY), kRsa, kCreateOnly | kSecretPart},
    {CKA_COEFFICIENT, "CKA_COEFFICIENT", AttrKind::kBytes, C(CKO_PRIVATE_KEY), kRsa, kCreateOnly | kSecretPart},
    {CKA_SEALHSM_PKCS8, "CKA_SEALHSM_PKCS8", AttrKind::kBytes, C(CKO_PRIVATE_KEY), kRsa | kEc | kEdwards, kCreateOnly | kSecretPart},
    {CKA_PUBLIC_KEY_INFO, "CKA_PUBLIC_KEY_INFO", AttrKind::kBytes, kAsym, 0, kTokenOnly},
    {CKA_EC_PARAMS, "CKA_EC_PARAMS", AttrKind::kBytes, kAsym, kEc | kEdwards, kSetAnywhere},
    {CKA_EC_POINT, "CKA_EC_POINT", AttrKind::kBytes, C(CKO_PUBLIC_KEY), kEc | kEdwards, kCreateOnly},
    // CKA_VALUE: secret key bytes, EC/EdDSA private scalar, or data/certificate content.
    {CKA_VALUE, "CKA_VALUE", AttrKind::kBytes, C(CKO_SECRET_KEY), 0, kCreateOnly | kSecretPart},
    {CKA_VALUE, "CKA_VALUE", AttrKind::kBytes, C(CKO_PRIVATE_KEY), kEc | kEdwards, kCreateOnly | kSecretPart},
    {CKA_VALUE, "CKA_VALUE", AttrKind::kBytes, C(CKO_DATA) | C(CKO_CERTIFICATE), 0, kSetAnywhere},
    {CKA_VALUE_LEN, "CKA_VALUE_LEN", AttrKind::kUlong, C(CKO_SECRET_KEY), kAes | kGeneric, kGenerateOnly},
    {CKA_EXTRACTABLE, "CKA_EXTRACTABLE", AttrKind::kBool, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_LOCAL, "CKA_LOCAL", AttrKind::kBool, kKeys, 0, kTokenOnly},
    {CKA_NEVER_EXTRACTABLE, "CKA_NEVER_EXTRACTABLE", AttrKind::kBool, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kTokenOnly},
    {CKA_ALWAYS_SENSITIVE, "CKA_ALWAYS_SENSITIVE", AttrKind::kBool, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kTokenOnly},
    {CKA_KEY_GEN_MECHANISM, "CKA_KEY_GEN_MECHANISM", AttrKind::kUlong, kKeys, 0, kTokenOnly},
    {CKA_ALWAYS_AUTHENTICATE, "CKA_ALWAYS_AUTHENTICATE", AttrKind::kBool, C(CKO_PRIVATE_KEY), 0, kSetAnywhere},
    {CKA_WRAP_WITH_TRUSTED, "CKA_WRAP_WITH_TRUSTED", AttrKind::kBool, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_ALLOWED_MECHANISMS, "CKA_ALLOWED_MECHANISMS", AttrKind::kMechanismList, kKeys, 0, kSetAnywhere},
    {CKA_WRAP_TEMPLATE, "CKA_WRAP_TEMPLATE", AttrKind::kTemplate, C(CKO_PUBLIC_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
    {CKA_UNWRAP_TEMPLATE, "CKA_UNWRAP_TEMPLATE", AttrKind::kTemplate, C(CKO_PRIVATE_KEY) | C(CKO_SECRET_KEY), 0, kSetAnywhere},
};

bool KeyTypeAllowed(const AttrRule& r, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt) {
  if (r.key_types == 0) return true;
  if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_SECRET_KEY) return false;
  return (r.key_types & KeyTypeBit(kt)) != 0;
}

}  // namespace

unsigned KeyTypeBit(CK_KEY_TYPE kt) {
  switch (kt) {
    case CKK_RSA: return kRsa;
    case CKK_EC: return kEc;
    case CKK_EC_EDWARDS: return kEdwards;
    case CKK_AES: return kAes;
    case CKK_GENERIC_SECRET: return kGeneric;
    case CKK_DES3: return kDes3;
    default: return 0;
  }
}

const AttrRule* FindRule(CK_ATTRIBUTE_TYPE type, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt) {
  if (cls >= 32) return nullptr;
  for (const AttrRule& r : kRules) {
    if (r.type == type && (r.classes & C(cls)) != 0 && KeyTypeAllowed(r, cls, kt)) return &r;
  }
  return nullptr;
}

const AttrRule* FindRuleAnyClass(CK_ATTRIBUTE_TYPE type) {
  for (const AttrRule& r : kRules) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

Bytes UlongBytes(CK_ULONG v) {
  Bytes b(sizeof(CK_ULONG));
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

Bytes EncodeTemplate(const Template& t) {
  Bytes out;
  for (const auto& [type, value] : t) {
    Append(out, UlongBytes(type));
    Append(out, UlongBytes(value.size()));
    Append(out, value);
  }
  return out;
}

Template DecodeTemplate(ByteView v) {
  Template t;
  std::size_t at = 0;
  constexpr std::size_t w = sizeof(CK_ULONG);
  while (at < v.size) {
    if (v.size - at < 2 * w) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "malformed template attribute");
    CK_ULONG type, len;
    std::memcpy(&type, v.data + at, w);
    std::memcpy(&len, v.data + at + w, w);
    at += 2 * w;
    if (len > v.size - at) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "malformed template attribute");
    t.emplace_back(type, Bytes(v.data + at, v.data + at + len));
    at += len;
  }
  return t;
}

Attributes Attributes::FromTemplate(const Template& t) {
  Attributes a;
  for (const auto& [type, value] : t) {
    auto it = a.map_.find(type);
    if (it != a.map_.end() && it->second != value) {
      const AttrRule* r = FindRuleAnyClass(type);
      Fail(CKR_TEMPLATE_INCONSISTENT, std::string(r ? r->name : "attribute") + " given twice with different values");
    }
    a.map_[type] = value;
  }
  return a;
}

const Bytes* Attributes::Find(CK_ATTRIBUTE_TYPE t) const {
  auto it = map_.find(t);
  return it == map_.end() ? nullptr : &it->second;
}

const Bytes& Attributes::Get(CK_ATTRIBUTE_TYPE t) const {
  const Bytes* b = Find(t);
  if (b == nullptr) {
    const AttrRule* r = FindRuleAnyClass(t);
    Fail(CKR_TEMPLATE_INCOMPLETE, std::string(r ? r->name : "attribute") + " is required");
  }
  return *b;
}

std::optional<bool> Attributes::Bool(CK_ATTRIBUTE_TYPE t) const {
  const Bytes* b = Find(t);
  if (b == nullptr) return std::nullopt;
  if (b->size() != 1 || (*b)[0] > 1) {
    const AttrRule* r = FindRuleAnyClass(t);
    Fail(CKR_ATTRIBUTE_VALUE_INVALID, std::string(r ? r->name : "attribute") + " must be a CK_BBOOL (one byte, 0 or 1)");
  }
  return (*b)[0] == 1;
}

std::optional<CK_ULONG> Attributes::Ulong(CK_ATTRIBUTE_TYPE t) const {
  const Bytes* b = Find(t);
  if (b == nullptr) return std::nullopt;
  if (b->size() != sizeof(CK_ULONG)) {
    const AttrRule* r = FindRuleAnyClass(t);
    Fail(CKR_ATTRIBUTE_VALUE_INVALID, std::string(r ? r->name : "attribute") + " must be a CK_ULONG");
  }
  CK_ULONG v;
  std::memcpy(&v, b->data(), sizeof v);
  return v;
}

void Attributes::SetUlong(CK_ATTRIBUTE_TYPE t, CK_ULONG v) { map_[t] = UlongBytes(v); }

bool Attributes::Matches(const Attributes& q) const {
  for (const auto& [type, value] : q.map_) {
    const Bytes* mine = Find(type);
    if (mine == nullptr || *mine != value) return false;
  }
  return true;
}

void ValidateTemplate(const Attributes& t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, TemplateUse use, CK_RV inapplicable) {
  for (const auto& [type, value] : t) {
    const AttrRule* r = FindRule(type, cls, kt);
    if (r == nullptr) {
      const AttrRule* any = FindRuleAnyClass(type);
      Fail(any != nullptr ? inapplicable : CKR_ATTRIBUTE_TYPE_INVALID,
           any ? std::string(any->name) + " does not apply to this object class / key type"
               : "unknown attribute type 0x" + [&] { char b[20]; snprintf(b, sizeof b, "%lx", type); return std::string(b); }());
    }
    if (r->origin & kTokenOnly) Fail(CKR_ATTRIBUTE_READ_ONLY, std::string(r->name) + " is set by the token");
    bool material = (r->origin & kCreateOnly) != 0;
    if (material && use != TemplateUse::kCreate) {
      Fail(CKR_TEMPLATE_INCONSISTENT, std::string(r->name) + " is key material; the token computes it here");
    }
    if ((r->origin & kGenerateOnly) && use == TemplateUse::kCreate) {
      Fail(CKR_TEMPLATE_INCONSISTENT, std::string(r->name) + " is only for key generation; the value determines it");
    }
    switch (r->kind) {
      case AttrKind::kBool: (void)t.Bool(type); break;
      case AttrKind::kUlong: (void)t.Ulong(type); break;
      case AttrKind::kMechanismList:
        if (value.size() % sizeof(CK_ULONG) != 0) Fail(CKR_ATTRIBUTE_VALUE_INVALID, std::string(r->name) + " must be a CK_MECHANISM_TYPE array");
        break;
      case AttrKind::kTemplate:
        for (const auto& [inner, bytes] : DecodeTemplate(value)) {
          const AttrRule* ir = FindRuleAnyClass(inner);
          if (ir != nullptr && ir->kind == AttrKind::kTemplate) Fail(CKR_ATTRIBUTE_VALUE_INVALID, std::string(r->name) + " cannot hold another template");
        }
        break;
      case AttrKind::kBytes: break;
    }
  }
}

}  // namespace hsm
