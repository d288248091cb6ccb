// native/addon/convert.h
//
// JS ⇄ core conversion, on the JS thread only. Inputs are copied into core types before any work
// is queued (the caller's buffers may change or be collected while a worker runs); work that runs
// at once may borrow them instead. Bad arguments
// throw Napi::TypeError / RangeError naming the argument; callers turn that into a rejection.
#pragma once

#include <napi.h>

#include <string>
#include <type_traits>
#include <vector>

#include "mech/mechanism.h"
#include "token.h"

namespace hsm::addon {

CK_ULONG ToUlong(const Napi::Value& v, const char* what);
bool ToBool(const Napi::Value& v, const char* what);
std::string ToString(const Napi::Value& v, const char* what);
Bytes ToBytes(const Napi::Value& v, const char* what);       // Uint8Array / Buffer / ArrayBuffer, copied
// The same bytes borrowed, not copied: only for work that runs at once on the JS thread (the *Sync
// calls), before any JavaScript can change or free the buffer.
ByteView ViewBytes(const Napi::Value& v, const char* what);
// A call's data input: borrowed when the work runs now, copied when it is queued for the pool.
template <bool Now>
using Input = std::conditional_t<Now, ByteView, Bytes>;
template <bool Now>
Input<Now> TakeInput(const Napi::Value& v, const char* what) {
  if constexpr (Now) {
    return ViewBytes(v, what);
  } else {
    return ToBytes(v, what);
  }
}
SecureBytes ToSecret(const Napi::Value& v, const char* what); // a password: string or Uint8Array, copied
Template ToTemplate(const Napi::Value& v, const char* what, bool nested = false); // [[type, boolean | number | bytes | string], ...]
MechParams ToMechanism(const Napi::Value& v, const char* what);
std::vector<CK_ULONG> ToUlongArray(const Napi::Value& v, const char* what);

Napi::Value FromBytes(Napi::Env env, const Bytes& b);  // a copy: no external buffers
Napi::Value FromUlong(Napi::Env env, CK_ULONG v);
Napi::Value FromUlongArray(Napi::Env env, const std::vector<CK_ULONG>& v);
Napi::Value FromAttributes(Napi::Env env, const std::vector<AttributeValue>& v);

}  // namespace hsm::addon
