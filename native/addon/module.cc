// native/addon/module.cc
// The Node-API module: exports only. Context-aware (no per-process JS state), so it loads in
// worker threads and several environments at once.
#include <napi.h>

#include "ops.h"
#include "ossl.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  hsm::ossl::EnsureSecureHeap();
  hsm::addon::InitLifecycle(env, exports);
  hsm::addon::InitObjects(env, exports);
  hsm::addon::InitKeys(env, exports);
  hsm::addon::InitCrypto(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(sealhsm, Init)
