// native/addon/task.h
//
// The one AsyncWorker: runs a core call on the libuv pool and settles a Promise. Errors keep their
// CKR_* code: rejected with an Error whose `code` is the CKR name and `rv` the number. Bad
// arguments reject with the TypeError/RangeError conversion threw; nothing ever aborts.
#pragma once

#include <napi.h>

#include <functional>
#include <variant>

#include "convert.h"

namespace hsm::addon {

// An encryption's output and the IV the token generated for it (empty when the caller chose it).
struct CryptOut {
  Bytes data;
  Bytes iv;
};

using Result = std::variant<std::monostate, Bytes, bool, CK_ULONG, std::vector<CK_ULONG>, std::vector<AttributeValue>, CryptOut>;
using Work = std::function<Result()>;
// Runs on the JS thread after success, before the value is returned (e.g. writes a generated IV
// into the caller's buffer). Holds any Napi::Reference it needs; destroyed on the JS thread.
using After = std::function<void(Napi::Env, const Result&)>;
struct Prepared {
  Work work;
  After after;
};

Napi::Error CoreError(Napi::Env env, CK_RV rv, const std::string& message);

// Builds the work on the JS thread with `prepare` (which converts and copies arguments and may
// throw a Napi::Error), queues it, and returns the Promise. Never throws.
Napi::Value Queue(const Napi::CallbackInfo& info, const std::function<Work(const Napi::CallbackInfo&)>& prepare);
Napi::Value QueueWith(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare);

// Copies an IV the token chose into the `iv` buffer of the mechanism argument (a[1]), once the call
// returns a CryptOut with one.
After WriteBackIv(const Napi::CallbackInfo& a);

// Runs the same prepared work inline on the JS thread and returns its value; core errors throw
// (the synchronous path for small hot operations, where the thread-pool hop costs more than the work).
Napi::Value RunNow(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare);

// Runs a synchronous core call for cheap lifecycle functions, converting core errors to JS errors.
template <typename F>
Napi::Value RunSync(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw CoreError(env, e.rv(), e.what());
  }
}

}  // namespace hsm::addon
