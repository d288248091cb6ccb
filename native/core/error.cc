// native/core/error.cc
// The CKR_* name table, generated from error_codes.def by the preprocessor.
#include "error.h"

namespace hsm {

void Fail(CK_RV rv, const std::string& detail) { throw Error(rv, detail); }

const char* RvName(CK_RV rv) noexcept {
  switch (rv) {
#define X(name) \
  case name:    \
    return #name;
#include "error_codes.def"
#undef X
    default:
      return "CKR_VENDOR_DEFINED";
  }
}

}  // namespace hsm
