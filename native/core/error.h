// native/core/error.h
//
// Errors inside core: an hsm::Error carries the exact CKR_* value from the place it happened to
// the door (addon or C ABI), with a detail string that never contains secret bytes.
// No N-API and no C-ABI conventions here.
#pragma once

#include <stdexcept>
#include <string>

#include "pkcs11.h"

namespace hsm {

class Error : public std::runtime_error {
 public:
  Error(CK_RV rv, const std::string& detail) : std::runtime_error(detail), rv_(rv) {}
  CK_RV rv() const noexcept { return rv_; }

 private:
  CK_RV rv_;
};

// Throws Error(rv, detail). The one way core reports failure.
[[noreturn]] void Fail(CK_RV rv, const std::string& detail);

// "CKR_PIN_INCORRECT" for CKR_PIN_INCORRECT; "CKR_VENDOR_DEFINED" for unknown values.
const char* RvName(CK_RV rv) noexcept;

// Calls every X(name) of error_codes.def with (name, value); used to export the table.
template <typename F>
void ForEachRv(F&& f) {
#define X(name) f(#name, static_cast<CK_RV>(name));
#include "error_codes.def"
#undef X
}

}  // namespace hsm
