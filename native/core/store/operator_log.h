// native/core/store/operator_log.h
//
// What an operator did to a token outside the API's normal rules — an admin accepting a rollback,
// a user unlocked offline — one line each in operator.log beside token.db, with the time (UTC), who
// and what; never a secret. Appended before the act takes effect: a failed append refuses the act.
#pragma once

#include <string>

namespace hsm {

void AppendOperatorLog(const std::string& dir, const std::string& what);  // CKR_DEVICE_ERROR if it cannot

}  // namespace hsm
