// native/addon/objects.cc
// PKCS#11 object management (v3.0 §5.7): create, destroy, read attributes, find. Async.
#include "library.h"
#include "ops.h"
#include "task.h"

namespace hsm::addon {

namespace {

Napi::Value CreateObject(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    Template t = ToTemplate(a[1], "template");
    return [s, t = std::move(t)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->CreateObject(*b.session, t);
    };
  });
}

Napi::Value DestroyObject(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
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

}  // namespace

void InitObjects(Napi::Env env, Napi::Object e) {
  e.Set("createObject", Napi::Function::New(env, CreateObject, "createObject"));
  e.Set("destroyObject", Napi::Function::New(env, DestroyObject, "destroyObject"));
  e.Set("getAttributes", Napi::Function::New(env, GetAttributes, "getAttributes"));
  e.Set("findObjects", Napi::Function::New(env, FindObjects, "findObjects"));
}

}  // namespace hsm::addon
