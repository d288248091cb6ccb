// native/core/attributes.h
//
// PKCS#11 attributes (v3.0 §4): a typed map for an object's readable attributes, the caller's
// template, and the one rule table that says which attribute exists on which class and key type,
// what its value looks like, and who may set it. No N-API, no CK_ATTRIBUTE pointers here.
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "bytes.h"
#include "pkcs11.h"

namespace hsm {

// A caller's template: attribute type and raw value, in the caller's order.
using Template = std::vector<std::pair<CK_ATTRIBUTE_TYPE, Bytes>>;

class Attributes {
 public:
  Attributes() = default;
  // Builds from a template; the same type given twice with different values is
  // CKR_TEMPLATE_INCONSISTENT.
  static Attributes FromTemplate(const Template& t);

  bool Has(CK_ATTRIBUTE_TYPE t) const { return map_.count(t) != 0; }
  const Bytes* Find(CK_ATTRIBUTE_TYPE t) const;
  const Bytes& Get(CK_ATTRIBUTE_TYPE t) const;  // CKR_TEMPLATE_INCOMPLETE when absent
  // Value checks raise CKR_ATTRIBUTE_VALUE_INVALID on a malformed value.
  std::optional<bool> Bool(CK_ATTRIBUTE_TYPE t) const;
  bool BoolOr(CK_ATTRIBUTE_TYPE t, bool dflt) const { return Bool(t).value_or(dflt); }
  std::optional<CK_ULONG> Ulong(CK_ATTRIBUTE_TYPE t) const;

  void Set(CK_ATTRIBUTE_TYPE t, Bytes v) { map_[t] = std::move(v); }
  void SetBool(CK_ATTRIBUTE_TYPE t, bool v) { map_[t] = Bytes{static_cast<uint8_t>(v ? 1 : 0)}; }
  void SetUlong(CK_ATTRIBUTE_TYPE t, CK_ULONG v);
  void SetDefault(CK_ATTRIBUTE_TYPE t, Bytes v) { map_.emplace(t, std::move(v)); }
  void SetDefaultBool(CK_ATTRIBUTE_TYPE t, bool v) { if (!Has(t)) SetBool(t, v); }
  void Erase(CK_ATTRIBUTE_TYPE t) { map_.erase(t); }

  // True when every attribute of `query` is present here with an equal value (C_FindObjects).
  bool Matches(const Attributes& query) const;

  auto begin() const { return map_.begin(); }
  auto end() const { return map_.end(); }

 private:
  std::map<CK_ATTRIBUTE_TYPE, Bytes> map_;
};

Bytes UlongBytes(CK_ULONG v);

// Template-valued attributes (CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE) are kept encoded as
// repeated (CK_ULONG type, CK_ULONG length, value) records; CKR_ATTRIBUTE_VALUE_INVALID if malformed.
Bytes EncodeTemplate(const Template& t);
Template DecodeTemplate(ByteView v);

// ---- the rule table ----
enum class AttrKind { kBool, kUlong, kBytes, kMechanismList, kTemplate };

// Who may give the attribute in a template.
enum AttrOrigin : unsigned {
  kSetAnywhere = 0,
  kTokenOnly = 1u << 0,      // computed by the token (CKA_LOCAL, ...): CKR_ATTRIBUTE_READ_ONLY
  kGenerateOnly = 1u << 1,   // only in a key-generation template (CKA_MODULUS_BITS, CKA_VALUE_LEN)
  kCreateOnly = 1u << 2,     // only in C_CreateObject / unwrap material (CKA_MODULUS, ...)
  kSecretPart = 1u << 3,     // private/secret component: never returned, never stored as attribute
};

struct AttrRule {
  CK_ATTRIBUTE_TYPE type;
  const char* name;
  AttrKind kind;
  unsigned classes;   // bit (1 << CKO_x)
  unsigned key_types; // bit per KeyTypeBit(); 0 = every key type (or not a key attribute)
  unsigned origin;    // AttrOrigin bits
};

unsigned KeyTypeBit(CK_KEY_TYPE kt);
// The rule for `type` on an object of class `cls` and key type `kt`, or nullptr when the attribute
// does not exist there (CKR_ATTRIBUTE_TYPE_INVALID).
const AttrRule* FindRule(CK_ATTRIBUTE_TYPE type, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt);
const AttrRule* FindRuleAnyClass(CK_ATTRIBUTE_TYPE type);

enum class TemplateUse { kCreate, kGenerate, kUnwrap, kDerive };
// Validates every attribute of a template for an object of (cls, kt) used for `use`:
// unknown → CKR_ATTRIBUTE_TYPE_INVALID, token-computed → CKR_ATTRIBUTE_READ_ONLY,
// malformed value → CKR_ATTRIBUTE_VALUE_INVALID, material in a generate template →
// CKR_TEMPLATE_INCONSISTENT.
// `inapplicable`: the code for a known attribute that does not apply to (cls, kt) — the profile's
// (Profile::inapplicable_attribute).
void ValidateTemplate(const Attributes& t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, TemplateUse use, CK_RV inapplicable = CKR_ATTRIBUTE_TYPE_INVALID);

}  // namespace hsm
