// native/core/attribute_changes.cc
#include "attribute_changes.h"

#include <cstdio>
#include <string>

namespace hsm {

namespace {

enum class Change { kNever, kFree, kFalseToTrue, kTrueToFalse, kAdminOnly };
struct ChangeRule {
  CK_ATTRIBUTE_TYPE type;
  Change set_pkcs11;    // C_SetAttributeValue, pkcs11 profile
  Change set_cloudhsm;  // `key set-attribute` / C_SetAttributeValue, CloudHSM profiles
  Change copy;          // C_CopyObject's template (PKCS#11 §4.5: CKA_TOKEN, CKA_PRIVATE and CKA_MODIFIABLE may change in a copy)
};
const ChangeRule kChangeRules[] = {
    {CKA_LABEL, Change::kFree, Change::kFree, Change::kFree},
    {CKA_ID, Change::kFree, Change::kFree, Change::kFree},
    {CKA_TOKEN, Change::kNever, Change::kFalseToTrue, Change::kFree},
    {CKA_PRIVATE, Change::kNever, Change::kNever, Change::kFree},
    {CKA_ENCRYPT, Change::kFree, Change::kFree, Change::kFree},
    {CKA_DECRYPT, Change::kFree, Change::kFree, Change::kFree},
    {CKA_SIGN, Change::kFree, Change::kFree, Change::kFree},
    {CKA_VERIFY, Change::kFree, Change::kFree, Change::kFree},
    {CKA_WRAP, Change::kFree, Change::kFree, Change::kFree},
    {CKA_UNWRAP, Change::kFree, Change::kFree, Change::kFree},
    {CKA_DERIVE, Change::kFree, Change::kFree, Change::kFree},
    {CKA_SENSITIVE, Change::kFalseToTrue, Change::kFalseToTrue, Change::kFalseToTrue},
    {CKA_EXTRACTABLE, Change::kTrueToFalse, Change::kNever, Change::kTrueToFalse},
    {CKA_WRAP_WITH_TRUSTED, Change::kFalseToTrue, Change::kFalseToTrue, Change::kFalseToTrue},
    {CKA_MODIFIABLE, Change::kTrueToFalse, Change::kTrueToFalse, Change::kFree},
    {CKA_COPYABLE, Change::kTrueToFalse, Change::kNever, Change::kTrueToFalse},
    {CKA_DESTROYABLE, Change::kFree, Change::kNever, Change::kFree},
    {CKA_TRUSTED, Change::kAdminOnly, Change::kAdminOnly, Change::kNever},
    {CKA_SUBJECT, Change::kFree, Change::kNever, Change::kFree},
    {CKA_START_DATE, Change::kFree, Change::kNever, Change::kFree},
    {CKA_END_DATE, Change::kFree, Change::kNever, Change::kFree},
    {CKA_WRAP_TEMPLATE, Change::kFree, Change::kNever, Change::kFree},
    {CKA_UNWRAP_TEMPLATE, Change::kFree, Change::kNever, Change::kFree},
};

const ChangeRule* RuleFor(CK_ATTRIBUTE_TYPE type) {
  for (const ChangeRule& r : kChangeRules) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

std::string NameOf(CK_ATTRIBUTE_TYPE type) {
  if (const AttrRule* r = FindRuleAnyClass(type)) return r->name;
  char b[24];
  snprintf(b, sizeof b, "0x%lx", type);
  return b;
}

}  // namespace

void CheckChanges(const Profile& p, const Object& before, const Attributes& t, ChangePath path, ChangeCaller caller) {
  for (const auto& [type, value] : t) {
    const ChangeRule* rule = RuleFor(type);
    std::string name = NameOf(type);
    // A data object's own fields may be given anew in a copy (PKCS#11 §4.5).
    bool data_field = before.cls == CKO_DATA && (type == CKA_VALUE || type == CKA_APPLICATION || type == CKA_OBJECT_ID);
    Change how = data_field && path == ChangePath::kCopy ? Change::kFree
                 : rule == nullptr                     ? Change::kNever
                 : path == ChangePath::kCopy           ? rule->copy
                 : p.ownership                         ? rule->set_cloudhsm
                                                       : rule->set_pkcs11;
    if (type == CKA_TRUSTED && how != Change::kAdminOnly) {
      // Never given in a copy: a copy keeps the original's CKA_TRUSTED and nobody but an admin sets it.
      Fail(CKR_ATTRIBUTE_READ_ONLY, name + " is set by " + (p.ownership ? "admins" : "the SO") + " only, with C_SetAttributeValue");
    }
    if (how == Change::kNever) {
      Fail(CKR_ATTRIBUTE_READ_ONLY, name + (path == ChangePath::kCopy ? " cannot be changed by C_CopyObject" : " cannot be changed after creation"));
    }
    if (how == Change::kAdminOnly) {
      if (!caller.admin) Fail(CKR_ATTRIBUTE_READ_ONLY, name + " is set by " + (p.ownership ? "admins" : "the SO") + " only");
    } else if (caller.admin && p.ownership && path == ChangePath::kSetAttribute) {
      Fail(CKR_USER_TYPE_INVALID, "admins may set only CKA_TRUSTED on keys");
    }
    const AttrRule* ar = FindRuleAnyClass(type);
    if (ar == nullptr || ar->kind != AttrKind::kBool) continue;  // only flags have a direction
    bool was = before.attrs.BoolOr(type, false), now = t.BoolOr(type, false);
    if (how == Change::kFalseToTrue && was && !now) Fail(CKR_ATTRIBUTE_READ_ONLY, name + " can only go from false to true");
    if (how == Change::kTrueToFalse && !was && now) Fail(CKR_ATTRIBUTE_READ_ONLY, name + " can only go from true to false");
  }
}

void CheckNewObjectTrust(const Attributes& t, ChangeCaller caller) {
  if (t.BoolOr(CKA_TRUSTED, false) && !caller.admin) Fail(CKR_ATTRIBUTE_READ_ONLY, "CKA_TRUSTED is set by the SO or an admin only");
}

}  // namespace hsm
