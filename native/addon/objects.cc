// native/addon/objects.cc
// PKCS#11 object management (v3.0 §5.7): create, destroy, read attributes, find. Async.
#include "library.h"
#include "ops.h"
#include "store_pool.h"
#include "task.h"

namespace hsm::addon {

namespace {

Napi::Value CreateObject(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    Template t = ToTemplate(a[1], "template");
    return [s, t = std::move(t)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->CreateObject(*b.session, t);
    };
  });
}

Napi::Value DestroyObject(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    CK_OBJECT_HANDLE h = ToUlong(a[1], "object");
    return [s, h]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      b.token->DestroyObject(*b.session, h);
      return std::monostate{};
    };
  });
}

Napi::Value GetAttributes(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    CK_OBJECT_HANDLE h = ToUlong(a[1], "object");
    std::vector<CK_ULONG> types = ToUlongArray(a[2], "types");
    return [s, h, types = std::move(types)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->GetAttributes(*b.session, h, types);
    };
  });
}

Napi::Value FindObjects(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    Template t = ToTemplate(a[1], "template");
    return [s, t = std::move(t)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->FindObjects(*b.session, t);
    };
  });
}

Napi::Value SetAttributes(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    CK_OBJECT_HANDLE h = ToUlong(a[1], "object");
    Template t = ToTemplate(a[2], "template");
    return [s, h, t = std::move(t)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      b.token->SetAttributes(*b.session, h, t);
      return std::monostate{};
    };
  });
}

// copyObject(session, object, template) → the copy's handle (C_CopyObject).
Napi::Value CopyObject(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    CK_OBJECT_HANDLE h = ToUlong(a[1], "object");
    Template t = ToTemplate(a[2], "template");
    return [s, h, t = std::move(t)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return static_cast<CK_ULONG>(b.token->CopyObject(*b.session, h, t));
    };
  });
}

Napi::Value ShareKey(const Napi::CallbackInfo& info) {
  return QueueBySession(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    CK_OBJECT_HANDLE h = ToUlong(a[1], "key");
    std::string user = ToString(a[2], "user");
    bool share = ToBool(a[3], "share");
    return [s, h, user, share]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      b.token->ShareKey(*b.session, h, user, share);
      return std::monostate{};
    };
  });
}

Napi::Value Ownership(const Napi::CallbackInfo& info) {
  CK_SESSION_HANDLE s = ToUlong(info[0], "session");
  CK_OBJECT_HANDLE h = ToUlong(info[1], "object");
  return RunSync(info.Env(), [&]() -> Napi::Value {
    Bound b = Library::Instance().Resolve(s);
    KeyOwnership k = b.token->Ownership(*b.session, h);
    auto o = Napi::Object::New(info.Env());
    o.Set("owner", k.owner);
    auto arr = Napi::Array::New(info.Env(), k.shared_with.size());
    for (uint32_t i = 0; i < k.shared_with.size(); ++i) arr.Set(i, k.shared_with[i]);
    o.Set("sharedWith", arr);
    return o;
  });
}

}  // namespace

void InitObjects(Napi::Env env, Napi::Object e) {
  e.Set("createObject", Napi::Function::New(env, CreateObject, "createObject"));
  e.Set("destroyObject", Napi::Function::New(env, DestroyObject, "destroyObject"));
  e.Set("getAttributes", Napi::Function::New(env, GetAttributes, "getAttributes"));
  e.Set("findObjects", Napi::Function::New(env, FindObjects, "findObjects"));
  e.Set("setAttributes", Napi::Function::New(env, SetAttributes, "setAttributes"));
  e.Set("copyObject", Napi::Function::New(env, CopyObject, "copyObject"));
  e.Set("shareKey", Napi::Function::New(env, ShareKey, "shareKey"));
  e.Set("ownership", Napi::Function::New(env, Ownership, "ownership"));
}

}  // namespace hsm::addon
