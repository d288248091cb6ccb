// native/addon/keys.cc
// Key management (PKCS#11 v3.0 §5.14): generate, generate pair, wrap, unwrap, derive. Async.
#include "library.h"
#include "ops.h"
#include "store_pool.h"
#include "task.h"

namespace hsm::addon {

namespace {

Napi::Value GenerateKey(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    Template t = ToTemplate(a[2], "template");
    return [s, m = std::move(m), t = std::move(t)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->GenerateKey(*b.session, m, t);
    };
  });
}

Napi::Value GenerateKeyPair(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    Template pub = ToTemplate(a[2], "publicTemplate");
    Template priv = ToTemplate(a[3], "privateTemplate");
    return [s, m = std::move(m), pub = std::move(pub), priv = std::move(priv)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      auto [hp, hs] = b.token->GenerateKeyPair(*b.session, m, pub, priv);
      return std::vector<CK_ULONG>{hp, hs};
    };
  });
}

Napi::Value WrapKey(const Napi::CallbackInfo& info) {
  return QueueWith(info, [](const Napi::CallbackInfo& a) -> Prepared {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    CK_OBJECT_HANDLE wrapping = ToUlong(a[2], "wrappingKey");
    CK_OBJECT_HANDLE key = ToUlong(a[3], "key");
    Work work = [s, m = std::move(m), wrapping, key]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      CryptOut out;
      out.data = b.token->WrapKey(*b.session, m, wrapping, key, &out.iv);
      return out;
    };
    return Prepared{std::move(work), WriteBackIv(a)};
  });
}

Napi::Value UnwrapKey(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    CK_OBJECT_HANDLE unwrapping = ToUlong(a[2], "unwrappingKey");
    Bytes wrapped = ToBytes(a[3], "wrapped");
    Template t = ToTemplate(a[4], "template");
    return [s, m = std::move(m), unwrapping, wrapped = std::move(wrapped), t = std::move(t)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->UnwrapKey(*b.session, m, unwrapping, wrapped, t);
    };
  });
}

Napi::Value DeriveKey(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    CK_OBJECT_HANDLE base = ToUlong(a[2], "baseKey");
    Template t = ToTemplate(a[3], "template");
    return [s, m = std::move(m), base, t = std::move(t)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->DeriveKey(*b.session, m, base, t);
    };
  });
}

}  // namespace

void InitKeys(Napi::Env env, Napi::Object e) {
  e.Set("generateKey", Napi::Function::New(env, GenerateKey, "generateKey"));
  e.Set("generateKeyPair", Napi::Function::New(env, GenerateKeyPair, "generateKeyPair"));
  e.Set("wrapKey", Napi::Function::New(env, WrapKey, "wrapKey"));
  e.Set("unwrapKey", Napi::Function::New(env, UnwrapKey, "unwrapKey"));
  e.Set("deriveKey", Napi::Function::New(env, DeriveKey, "deriveKey"));
}

}  // namespace hsm::addon
