// native/addon/ops.h
// The addon's exported functions, grouped by PKCS#11 chapter in lifecycle.cc, objects.cc,
// keys.cc and crypto.cc. Each converts its arguments on the JS thread and queues one core call.
#pragma once

#include <napi.h>

namespace hsm::addon {

void InitLifecycle(Napi::Env env, Napi::Object exports);
void InitObjects(Napi::Env env, Napi::Object exports);
void InitKeys(Napi::Env env, Napi::Object exports);
void InitCrypto(Napi::Env env, Napi::Object exports);

}  // namespace hsm::addon
