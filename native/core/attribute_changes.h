// native/core/attribute_changes.h
//
// How an attribute of an existing object may change, by every path that changes one or makes one
// from another (PKCS#11 v3.0 §4.4–4.10 and their footnotes: C_SetAttributeValue, C_CopyObject;
// CloudHSM's `key set-attribute`, spec §1.5): one table. The latches only move one way (SENSITIVE
// false→true, EXTRACTABLE true→false, WRAP_WITH_TRUSTED false→true, COPYABLE true→false),
// CKA_TRUSTED is the SO's or an admin's alone, and what the token computes stays read-only. A
// violation is CKR_ATTRIBUTE_READ_ONLY. Internal to core; knows nothing of doors.
#pragma once

#include "attributes.h"
#include "object.h"
#include "profile.h"

namespace hsm {

enum class ChangePath { kSetAttribute, kCopy };

struct ChangeCaller {
  bool admin = false;  // the SO (pkcs11) or an admin (CloudHSM profiles)
};

// Checks every attribute of `t` against the rules for changing `before` by `path`; throws
// CKR_ATTRIBUTE_READ_ONLY (not changeable here, a latch moved back, CKA_TRUSTED by a non-admin) or
// CKR_USER_TYPE_INVALID (an admin changing what only a key's owner may).
void CheckChanges(const Profile& p, const Object& before, const Attributes& t, ChangePath path, ChangeCaller caller);

// A template that makes a new object (create, generate, unwrap, derive): CKA_TRUSTED=true only by
// the SO or an admin (CKR_ATTRIBUTE_READ_ONLY otherwise), so no user can make a key that may wrap
// CKA_WRAP_WITH_TRUSTED keys.
void CheckNewObjectTrust(const Attributes& t, ChangeCaller caller);

}  // namespace hsm
