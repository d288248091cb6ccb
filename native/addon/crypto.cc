// native/addon/crypto.cc
// Encrypt/decrypt (§5.8–5.9), digest (§5.10), sign/verify (§5.11, §5.13), random (§5.15):
// atomic one-shot calls and the Init/Update/Final multi-part forms. Async.
#include <openssl/rand.h>

#include <cstring>

#include "library.h"
#include "ops.h"
#include "ossl.h"
#include "task.h"

namespace hsm::addon {

namespace {

// ---- one-shot

std::function<Prepared(const Napi::CallbackInfo&)> PrepareCrypt(bool encrypt) {
  return [encrypt](const Napi::CallbackInfo& a) -> Prepared {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    CK_OBJECT_HANDLE key = ToUlong(a[2], "key");
    Bytes data = ToBytes(a[3], "data");
    Work work = [s, encrypt, m = std::move(m), key, data = std::move(data)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      CryptOut out;
      out.data = b.token->Crypt(*b.session, encrypt, m, key, data, &out.iv);
      return out;
    };
    return Prepared{std::move(work), encrypt ? WriteBackIv(a) : nullptr};
  };
}

template <Work (*F)(const Napi::CallbackInfo&)>
Prepared Plain(const Napi::CallbackInfo& a) {
  return Prepared{F(a), nullptr};
}

Work PrepareSign(const Napi::CallbackInfo& a) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  MechParams m = ToMechanism(a[1], "mechanism");
  CK_OBJECT_HANDLE key = ToUlong(a[2], "key");
  Bytes data = ToBytes(a[3], "data");
  return [s, m = std::move(m), key, data = std::move(data)]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    return b.token->SignOnce(*b.session, m, key, data);
  };
}

Work PrepareVerify(const Napi::CallbackInfo& a) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  MechParams m = ToMechanism(a[1], "mechanism");
  CK_OBJECT_HANDLE key = ToUlong(a[2], "key");
  Bytes data = ToBytes(a[3], "data");
  Bytes sig = ToBytes(a[4], "signature");
  return [s, m = std::move(m), key, data = std::move(data), sig = std::move(sig)]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    b.token->VerifyOnce(*b.session, m, key, data, sig);
    return true;
  };
}

Work PrepareDigest(const Napi::CallbackInfo& a) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  MechParams m = ToMechanism(a[1], "mechanism");
  Bytes data = ToBytes(a[2], "data");
  return [s, m = std::move(m), data = std::move(data)]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    return b.token->DigestOnce(*b.session, m, data);
  };
}

Napi::Value GenerateRandom(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    CK_ULONG n = ToUlong(a[1], "length");
    if (n > (1u << 20)) throw Napi::RangeError::New(a.Env(), "length must be at most 1 MiB per call");
    return [s, n]() -> Result {
      (void)Library::Instance().Resolve(s);
      return ossl::RandomBytes(n);
    };
  });
}

// ---- multi-part: Init(session, mechanism, key), Update(session, data), Final(session[, signature])

Napi::Value CipherInit(const Napi::CallbackInfo& info, bool encrypt) {
  return QueueWith(info, [encrypt](const Napi::CallbackInfo& a) -> Prepared {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    CK_OBJECT_HANDLE key = ToUlong(a[2], "key");
    Work work = [s, encrypt, m = std::move(m), key]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      CryptOut out;
      b.token->CipherInit(*b.session, encrypt, m, key, &out.iv);
      return out;
    };
    return Prepared{std::move(work), encrypt ? WriteBackIv(a) : nullptr};
  });
}

Napi::Value CipherUpdate(const Napi::CallbackInfo& info, bool encrypt) {
  return Queue(info, [encrypt](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    Bytes data = ToBytes(a[1], "data");
    return [s, encrypt, data = std::move(data)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->CipherUpdate(*b.session, encrypt, data);
    };
  });
}

Napi::Value CipherFinal(const Napi::CallbackInfo& info, bool encrypt) {
  return Queue(info, [encrypt](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    return [s, encrypt]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->CipherFinal(*b.session, encrypt);
    };
  });
}

Napi::Value SignInit(const Napi::CallbackInfo& info, bool sign) {
  return Queue(info, [sign](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    CK_OBJECT_HANDLE key = ToUlong(a[2], "key");
    return [s, sign, m = std::move(m), key]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      b.token->SignInit(*b.session, sign, m, key);
      return std::monostate{};
    };
  });
}

Napi::Value SignUpdate(const Napi::CallbackInfo& info, bool sign) {
  return Queue(info, [sign](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    Bytes data = ToBytes(a[1], "data");
    return [s, sign, data = std::move(data)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      b.token->SignUpdate(*b.session, sign, data);
      return std::monostate{};
    };
  });
}

Napi::Value SignFinal(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    return [s]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->SignFinal(*b.session);
    };
  });
}

Napi::Value VerifyFinal(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    Bytes sig = ToBytes(a[1], "signature");
    return [s, sig = std::move(sig)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      b.token->VerifyFinal(*b.session, sig);
      return true;
    };
  });
}

Napi::Value DigestInit(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    MechParams m = ToMechanism(a[1], "mechanism");
    return [s, m = std::move(m)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      b.token->DigestInit(*b.session, m);
      return std::monostate{};
    };
  });
}

Napi::Value DigestUpdate(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    Bytes data = ToBytes(a[1], "data");
    return [s, data = std::move(data)]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      b.token->DigestUpdate(*b.session, data);
      return std::monostate{};
    };
  });
}

Napi::Value DigestFinal(const Napi::CallbackInfo& info) {
  return Queue(info, [](const Napi::CallbackInfo& a) -> Work {
    CK_SESSION_HANDLE s = ToUlong(a[0], "session");
    return [s]() -> Result {
      Bound b = Library::Instance().Resolve(s);
      return b.token->DigestFinal(*b.session);
    };
  });
}

}  // namespace

void InitCrypto(Napi::Env env, Napi::Object e) {
  // One-shot operations: a Promise from the thread pool, and a *Sync twin that runs inline.
  const std::pair<const char*, std::function<Prepared(const Napi::CallbackInfo&)>> once[] = {
      {"encrypt", PrepareCrypt(true)}, {"decrypt", PrepareCrypt(false)}, {"sign", Plain<PrepareSign>},
      {"verify", Plain<PrepareVerify>}, {"digest", Plain<PrepareDigest>}};
  for (const auto& [name, prepare] : once) {
    e.Set(name, Napi::Function::New(env, [prepare](const Napi::CallbackInfo& i) { return QueueWith(i, prepare); }, name));
    std::string sync = std::string(name) + "Sync";
    e.Set(sync, Napi::Function::New(env, [prepare](const Napi::CallbackInfo& i) { return RunNow(i, prepare); }, sync));
  }
  e.Set("generateRandom", Napi::Function::New(env, GenerateRandom, "generateRandom"));
  e.Set("encryptInit", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return CipherInit(i, true); }, "encryptInit"));
  e.Set("encryptUpdate", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return CipherUpdate(i, true); }, "encryptUpdate"));
  e.Set("encryptFinal", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return CipherFinal(i, true); }, "encryptFinal"));
  e.Set("decryptInit", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return CipherInit(i, false); }, "decryptInit"));
  e.Set("decryptUpdate", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return CipherUpdate(i, false); }, "decryptUpdate"));
  e.Set("decryptFinal", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return CipherFinal(i, false); }, "decryptFinal"));
  e.Set("signInit", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return SignInit(i, true); }, "signInit"));
  e.Set("signUpdate", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return SignUpdate(i, true); }, "signUpdate"));
  e.Set("signFinal", Napi::Function::New(env, SignFinal, "signFinal"));
  e.Set("verifyInit", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return SignInit(i, false); }, "verifyInit"));
  e.Set("verifyUpdate", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return SignUpdate(i, false); }, "verifyUpdate"));
  e.Set("verifyFinal", Napi::Function::New(env, VerifyFinal, "verifyFinal"));
  e.Set("digestInit", Napi::Function::New(env, DigestInit, "digestInit"));
  e.Set("digestUpdate", Napi::Function::New(env, DigestUpdate, "digestUpdate"));
  e.Set("digestFinal", Napi::Function::New(env, DigestFinal, "digestFinal"));
}

}  // namespace hsm::addon
