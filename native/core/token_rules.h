// native/core/token_rules.h
//
// Template rules shared by the token's chapters (token.cc objects, token_keys.cc key management).
// Internal to core.
#pragma once

#include "attributes.h"

namespace hsm {

// CKA_CLASS from a template, or CKR_TEMPLATE_INCOMPLETE.
CK_OBJECT_CLASS RequiredClass(const Attributes& t);

}  // namespace hsm
