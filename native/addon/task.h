// native/addon/task.h
//
// The one AsyncWorker: runs a core call on the libuv pool and settles a Promise. Errors keep their
// CKR_* code: rejected with an Error whose `code` is the CKR name and `rv` the number. Bad
// arguments reject with the TypeError/RangeError conversion threw; nothing ever aborts.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "convert.h"

namespace hsm::addon {

// Memory the core writes a one-shot cipher's output into directly, handed to JavaScript without a
// copy when it is large (an external Buffer that frees it when collected) and copied when small.
// Plaintext left in it is wiped when it is freed here; once it is a JavaScript Buffer it is the
// caller's, like any plaintext the caller asked for.
// On the JS thread (a *Sync call, `env` given) a large block is a Buffer from Node's own allocator
// from the start, as node:crypto's outputs are.
class OutBlock {
 public:
  explicit OutBlock(bool plaintext, napi_env env = nullptr) : plaintext_(plaintext), env_(env) {}
  ~OutBlock();
  OutBlock(const OutBlock&) = delete;
  OutBlock& operator=(const OutBlock&) = delete;
  // JS thread, before queued work: a Buffer from Node's allocator for the worker to write into,
  // referenced so it stays put, and reachable by no JavaScript until the call resolves. The block
  // must then be released on the JS thread (keep a copy of its shared_ptr in the Prepared's after).
  void Reserve(Napi::Env env, std::size_t capacity);
  uint8_t* Allocate(std::size_t capacity);  // once; the reserved Buffer when it is big enough
  void SetSize(std::size_t n) { size_ = n; }
  Napi::Value ToJs(Napi::Env env);  // once, on the JS thread

 private:
  uint8_t* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
  bool plaintext_;
  napi_env env_;
  napi_value js_ = nullptr;  // the Buffer data_ points into (JS thread only)
  Napi::Reference<Napi::Buffer<uint8_t>> reserved_;
  uint8_t* reserved_data_ = nullptr;
  std::size_t reserved_capacity_ = 0;
};

// An encryption's output and the IV the token generated for it (empty when the caller chose it).
// The output is in `block` when the core wrote it straight into memory, else in `data`.
struct CryptOut {
  Bytes data;
  Bytes iv;
  std::shared_ptr<OutBlock> block;
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

// Runs work off the JS thread: its result, or the CKR code and message of what it threw.
struct Outcome {
  Result result;
  bool ok = false;
  CK_RV rv = CKR_GENERAL_ERROR;
  std::string error;
};
Outcome RunWork(const Work& work);
// On the JS thread: the result as a JavaScript value.
Napi::Value ResultToJs(Napi::Env env, Result& result);

// Builds the work on the JS thread with `prepare` (which converts and copies arguments and may
// throw a Napi::Error), queues it, and returns the Promise. Never throws.
Napi::Value Queue(const Napi::CallbackInfo& info, const std::function<Work(const Napi::CallbackInfo&)>& prepare);
Napi::Value QueueWith(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare);

// Copies an IV the token chose into the `iv` buffer of the mechanism argument (a[1]), once the call
// returns a CryptOut with one.
After WriteBackIv(const Napi::CallbackInfo& a);

// Runs the prepared work now on the JS thread and settles the returned Promise with its value or
// error: the contract of Queue, for light work on small inputs, where handing it to the pool and
// back costs more than the work itself. Never throws.
Napi::Value SettleNow(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare);

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
