// native/pkcs11/entry.h — export macro and the slot list shared by the C door's files.
#pragma once

#include <vector>

#include "pkcs11.h"

#define SEALHSM_EXPORT __attribute__((visibility("default")))

namespace hsm::p11 {
std::vector<CK_SLOT_ID> Slots();
}  // namespace hsm::p11
