// native/addon/module.cc
// The Node-API module: exports only. Context-aware (no per-process JS state), so it loads in
// worker threads and several environments at once.
#include <napi.h>

#include <openssl/crypto.h>

#include "mech/ed25519_sodium.h"
#include "ops.h"
#include "ossl.h"

namespace {

// What this build carries: the OpenSSL it runs (the system's static copy or Node's own) and what
// signs Ed25519 (binding.gyp decides both at build time); whether that OpenSSL wipes what it frees.
Napi::Object BuildInfo(Napi::Env env, bool frees_wiped) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("opensslFreesWiped", frees_wiped);
  info.Set("openssl", OpenSSL_version(OPENSSL_VERSION));
  info.Set("ed25519", hsm::ed25519::Implementation());
  info.Freeze();
  return info;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Before OpenSSL allocates anything: the addon's own static OpenSSL wipes what it frees. (Built
  // against Node's OpenSSL instead, that one has allocated already and is left as it is.)
  static const bool frees_wiped = hsm::ossl::WipeOpenSslFrees();  // once per process
  hsm::ossl::EnsureSecureHeap();
  hsm::addon::InitLifecycle(env, exports);
  hsm::addon::InitObjects(env, exports);
  hsm::addon::InitKeys(env, exports);
  hsm::addon::InitCrypto(env, exports);
  exports.Set("build", BuildInfo(env, frees_wiped));
  return exports;
}

}  // namespace

NODE_API_MODULE(sealhsm, Init)
