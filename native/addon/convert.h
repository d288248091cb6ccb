// native/addon/convert.h
//
// JS ⇄ core conversion, on the JS thread only. Inputs are copied into core types before any work
// is queued (the caller's buffers may change or be collected while a worker runs); work that runs
// at once may borrow them instead. Bad arguments
// throw Napi::TypeError / RangeError naming the argument; callers turn that into a rejection.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "mech/mechanism.h"
#include "token.h"

namespace hsm::addon {

CK_ULONG ToUlong(const Napi::Value& v, const char* what);
// What ToUlong would accept, without throwing: false for anything else (for checks that must not fail).
bool PeekUlong(const Napi::Value& v, CK_ULONG* out);
bool ToBool(const Napi::Value& v, const char* what);
std::string ToString(const Napi::Value& v, const char* what);
Bytes ToBytes(const Napi::Value& v, const char* what);       // Uint8Array / Buffer / ArrayBuffer, copied
// The same bytes borrowed, not copied: only for work that runs at once on the JS thread (the *Sync
// calls), before any JavaScript can change or free the buffer.
ByteView ViewBytes(const Napi::Value& v, const char* what);
// The data of a queued call, copied on the JS thread before it is queued. Never read in place: the
// caller's ArrayBuffer can be transferred (postMessage, structuredClone) or detached while the call
// waits, and its memory freed with its new owner — a reference to the old object does not keep the
// memory — and Node-API has no way to hold the backing store itself. (Bulk data read in place did
// read freed memory under ASan that way; a 1 MiB copy costs a fraction of the cipher's own pass.)
class QueuedInput {
 public:
  QueuedInput(const Napi::Value& v, const char* what);
  QueuedInput(const QueuedInput&) = delete;
  QueuedInput& operator=(const QueuedInput&) = delete;
  ByteView view() const { return ByteView(copy_); }
  std::size_t size() const { return copy_.size(); }

 private:
  Bytes copy_;
};

// A call's data input: borrowed when the work runs now (the *Sync calls), a QueuedInput when it is
// queued (copied; Input<false> never borrows: those calls let it go on any thread).
template <bool Now>
using Input = std::conditional_t<Now, ByteView, std::shared_ptr<const QueuedInput>>;
template <bool Now>
Input<Now> TakeInput(const Napi::Value& v, const char* what) {
  if constexpr (Now) {
    return ViewBytes(v, what);
  } else {
    return std::make_shared<const QueuedInput>(v, what);
  }
}
inline ByteView View(ByteView v) { return v; }
inline ByteView View(const std::shared_ptr<const QueuedInput>& q) { return q->view(); }

SecureBytes ToSecret(const Napi::Value& v, const char* what); // a password: string or Uint8Array, copied
Template ToTemplate(const Napi::Value& v, const char* what, bool nested = false); // [[type, boolean | number | bytes | string], ...]
MechParams ToMechanism(const Napi::Value& v, const char* what);
std::vector<CK_ULONG> ToUlongArray(const Napi::Value& v, const char* what);

Napi::Value FromBytes(Napi::Env env, const Bytes& b);  // a copy: no external buffers
Napi::Value FromUlong(Napi::Env env, CK_ULONG v);
Napi::Value FromUlongArray(Napi::Env env, const std::vector<CK_ULONG>& v);
Napi::Value FromAttributes(Napi::Env env, const std::vector<AttributeValue>& v);

}  // namespace hsm::addon
