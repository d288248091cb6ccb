// native/addon/lifecycle.cc
// Tokens, sessions and the static tables (mechanisms, profiles, return codes). Synchronous: each is
// a map lookup, cheaper than a thread-pool hop.
#include "library.h"
#include "ops.h"
#include "task.h"

namespace hsm::addon {

namespace {

Napi::Value CreateToken(const Napi::CallbackInfo& info) {
  std::string profile = ToString(info[0], "profile");
  std::string label = ToString(info[1], "label");
  return RunSync(info.Env(), [&] {
    auto token = std::make_shared<Token>(ProfileByName(profile), label);
    return FromUlong(info.Env(), Library::Instance().AddToken(std::move(token)));
  });
}

Napi::Value RemoveToken(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  return RunSync(info.Env(), [&] {
    Library::Instance().RemoveToken(slot);
    return info.Env().Undefined();
  });
}

Napi::Value OpenSession(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  bool rw = ToBool(info[1], "readWrite");
  return RunSync(info.Env(), [&] {
    CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    return FromUlong(info.Env(), Library::Instance().OpenSession(slot, flags));
  });
}

Napi::Value CloseSession(const Napi::CallbackInfo& info) {
  CK_SESSION_HANDLE h = ToUlong(info[0], "session");
  return RunSync(info.Env(), [&] {
    Library::Instance().CloseSession(h);
    return info.Env().Undefined();
  });
}

Napi::Value TokenInfo(const Napi::CallbackInfo& info) {
  CK_SLOT_ID slot = ToUlong(info[0], "slot");
  return RunSync(info.Env(), [&] {
    auto token = Library::Instance().TokenAt(slot);
    auto o = Napi::Object::New(info.Env());
    o.Set("label", token->label());
    o.Set("profile", token->profile().name);
    o.Set("objects", FromUlong(info.Env(), token->ObjectCount()));
    o.Set("sessions", FromUlong(info.Env(), Library::Instance().SessionCount(slot)));
    return o;
  });
}

Napi::Value Mechanisms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& all = AllMechanisms();
  auto arr = Napi::Array::New(env, all.size());
  for (uint32_t i = 0; i < all.size(); ++i) {
    auto o = Napi::Object::New(env);
    o.Set("type", FromUlong(env, all[i].type));
    o.Set("name", all[i].name);
    o.Set("flags", FromUlong(env, all[i].flags));
    o.Set("minKeySize", FromUlong(env, all[i].min_key));
    o.Set("maxKeySize", FromUlong(env, all[i].max_key));
    o.Set("multipart", all[i].multipart);
    arr.Set(i, o);
  }
  return arr;
}

Napi::Value Profiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& all = AllProfiles();
  auto arr = Napi::Array::New(env, all.size());
  for (uint32_t i = 0; i < all.size(); ++i) {
    auto o = Napi::Object::New(env);
    o.Set("name", all[i].name);
    o.Set("description", all[i].description);
    arr.Set(i, o);
  }
  return arr;
}

Napi::Value ReturnCodes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  ForEachRv([&](const char* name, CK_RV rv) { o.Set(name, FromUlong(env, rv)); });
  return o;
}

}  // namespace

void InitLifecycle(Napi::Env env, Napi::Object e) {
  e.Set("createToken", Napi::Function::New(env, CreateToken, "createToken"));
  e.Set("removeToken", Napi::Function::New(env, RemoveToken, "removeToken"));
  e.Set("openSession", Napi::Function::New(env, OpenSession, "openSession"));
  e.Set("closeSession", Napi::Function::New(env, CloseSession, "closeSession"));
  e.Set("tokenInfo", Napi::Function::New(env, TokenInfo, "tokenInfo"));
  e.Set("mechanisms", Napi::Function::New(env, Mechanisms, "mechanisms"));
  e.Set("profiles", Napi::Function::New(env, Profiles, "profiles"));
  e.Set("returnCodes", Napi::Function::New(env, ReturnCodes, "returnCodes"));
}

}  // namespace hsm::addon
