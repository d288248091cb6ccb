// native/addon/crypto.cc
// Encrypt/decrypt (§5.8–5.9), digest (§5.10), sign/verify (§5.11, §5.13), random (§5.15):
// atomic one-shot calls and the Init/Update/Final multi-part forms. Async.
#include <openssl/rand.h>

#include <cstring>
#include <tuple>

#include "library.h"
#include "ops.h"
#include "ossl.h"
#include "task.h"

namespace hsm::addon {

namespace {

// ---- one-shot

// Data from which a queued cipher call reserves its output Buffer before it runs; the slack covers
// every symmetric mode's growth (a GCM tag, CBC padding, a prepended IV).
constexpr std::size_t kBulkInput = 16 * 1024;
constexpr std::size_t kBulkSlack = 64;

// The most data a Promise-returning one-shot call runs inline (SettleNow) rather than on the pool:
// a light mechanism does 4 KiB in a microsecond or two, less than the hop to a pool thread and back
// (measured: AES-GCM 32 B went from 0.27x to 0.9x of node's synchronous rate).
constexpr std::size_t kInlineMax = 4096;

// Whether a one-shot call may run inline: the registry marks its mechanism light, the data is at
// most kInlineMax bytes, and its key is already in memory (a token key not yet loaded would be read
// from the store on the JS thread). Anything unusual (bad arguments included) goes to the pool,
// whose preparation reports it.
bool RunsInline(const Napi::CallbackInfo& a, int key_arg, int data_arg) {
  Napi::Value mv = a[1];
  if (mv.IsObject()) mv = mv.As<Napi::Object>().Get("type");
  CK_ULONG type = 0, session = 0, key = 0;
  if (!PeekUlong(mv, &type)) return false;
  const MechanismInfo* info = FindMechanism(type);
  if (info == nullptr || !info->light) return false;
  Napi::Value d = a[static_cast<std::size_t>(data_arg)];
  if (!d.IsTypedArray() || d.As<Napi::TypedArray>().ByteLength() > kInlineMax) return false;
  if (key_arg < 0) return true;
  if (!PeekUlong(a[0], &session) || !PeekUlong(a[static_cast<std::size_t>(key_arg)], &key)) return false;
  try {
    return Library::Instance().Resolve(session).token->Resident(key);
  } catch (const Error&) {
    return false;
  }
}

// One-shot operations, in two forms: Now = false is queued on the pool (its data copied:
// QueuedInput); Now = true borrows the caller's buffer and runs at once on the JS thread (the *Sync
// calls).
template <bool Now, bool Encrypt>
Prepared PrepareCrypt(const Napi::CallbackInfo& a) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  MechParams m = ToMechanism(a[1], "mechanism");
  CK_OBJECT_HANDLE key = ToUlong(a[2], "key");
  Input<Now> data = TakeInput<Now>(a[3], "data");
  // The cipher writes straight into the block that becomes the JavaScript Buffer: made by Node's
  // allocator on the JS thread (now, or reserved before queueing for large data), else malloc'd.
  auto block = std::make_shared<OutBlock>(!Encrypt, Now ? static_cast<napi_env>(a.Env()) : nullptr);
  if constexpr (!Now) {
    if (View(data).size >= kBulkInput) block->Reserve(a.Env(), View(data).size + kBulkSlack);
  }
  Work work = [s, m = std::move(m), key, data, block]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    CryptOut out;
    out.block = block;
    block->SetSize(b.token->CryptInto(*b.session, Encrypt, m, key, View(data), [&](std::size_t bound) { return block->Allocate(bound); }, &out.iv));
    return out;
  };
  After iv = Encrypt ? WriteBackIv(a) : nullptr;
  // The block and the input (a reference to the caller's buffer) are let go on the JS thread, with
  // the after step.
  After after = [iv, block, data](Napi::Env env, const Result& r) {
    if (iv) iv(env, r);
  };
  return Prepared{std::move(work), std::move(after)};
}

template <bool Now>
Prepared PrepareSign(const Napi::CallbackInfo& a) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  MechParams m = ToMechanism(a[1], "mechanism");
  CK_OBJECT_HANDLE key = ToUlong(a[2], "key");
  Input<Now> data = TakeInput<Now>(a[3], "data");
  return Prepared{[s, m = std::move(m), key, data = std::move(data)]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    return b.token->SignOnce(*b.session, m, key, View(data));
  }, nullptr};
}

template <bool Now>
Prepared PrepareVerify(const Napi::CallbackInfo& a) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  MechParams m = ToMechanism(a[1], "mechanism");
  CK_OBJECT_HANDLE key = ToUlong(a[2], "key");
  Input<Now> data = TakeInput<Now>(a[3], "data");
  Input<Now> sig = TakeInput<Now>(a[4], "signature");
  return Prepared{[s, m = std::move(m), key, data = std::move(data), sig = std::move(sig)]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    b.token->VerifyOnce(*b.session, m, key, View(data), View(sig));
    return true;
  }, nullptr};
}

template <bool Now>
Prepared PrepareDigest(const Napi::CallbackInfo& a) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  MechParams m = ToMechanism(a[1], "mechanism");
  Input<Now> data = TakeInput<Now>(a[2], "data");
  return Prepared{[s, m = std::move(m), data = std::move(data)]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    return b.token->DigestOnce(*b.session, m, View(data));
  }, nullptr};
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

// A stream's chunk: written straight into its output Buffer, as one-shot calls are. Now = true is
// the *Sync twin (borrowed input, a Buffer from Node's allocator), which the client's streams use as
// node:crypto's cipher streams do: a chunk's work is shorter than a hop to the pool and back.
template <bool Now>
Prepared PrepareCipherUpdate(const Napi::CallbackInfo& a, bool encrypt) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  Input<Now> data = TakeInput<Now>(a[1], "data");
  auto block = std::make_shared<OutBlock>(!encrypt, Now ? static_cast<napi_env>(a.Env()) : nullptr);
  if constexpr (!Now) {
    if (View(data).size >= kBulkInput) block->Reserve(a.Env(), View(data).size + kBulkSlack);
  }
  Work work = [s, encrypt, data, block]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    CryptOut out;
    out.block = block;
    block->SetSize(b.token->CipherUpdateInto(*b.session, encrypt, View(data), [&](std::size_t bound) { return block->Allocate(bound); }));
    return out;
  };
  return Prepared{std::move(work), [block, data](Napi::Env, const Result&) {}};  // both let go on the JS thread
}

Prepared PrepareCipherFinal(const Napi::CallbackInfo& a, bool encrypt) {
  CK_SESSION_HANDLE s = ToUlong(a[0], "session");
  return Prepared{[s, encrypt]() -> Result {
    Bound b = Library::Instance().Resolve(s);
    return b.token->CipherFinal(*b.session, encrypt);
  }, nullptr};
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
  using Prepare = Prepared (*)(const Napi::CallbackInfo&);
  // name, the queued and the inline form, and where the key and the data are among the arguments.
  const std::tuple<const char*, Prepare, Prepare, int, int> once[] = {
      {"encrypt", PrepareCrypt<false, true>, PrepareCrypt<true, true>, 2, 3},
      {"decrypt", PrepareCrypt<false, false>, PrepareCrypt<true, false>, 2, 3},
      {"sign", PrepareSign<false>, PrepareSign<true>, 2, 3},
      {"verify", PrepareVerify<false>, PrepareVerify<true>, 2, 3},
      {"digest", PrepareDigest<false>, PrepareDigest<true>, -1, 2}};
  for (const auto& [name, queued, now, key_arg, data_arg] : once) {
    e.Set(name, Napi::Function::New(env, [queued, now, key_arg, data_arg](const Napi::CallbackInfo& i) {
      return RunsInline(i, key_arg, data_arg) ? SettleNow(i, now) : QueueWith(i, queued);
    }, name));
    std::string sync = std::string(name) + "Sync";
    e.Set(sync, Napi::Function::New(env, [now](const Napi::CallbackInfo& i) { return RunNow(i, now); }, sync));
  }
  e.Set("generateRandom", Napi::Function::New(env, GenerateRandom, "generateRandom"));
  e.Set("encryptInit", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return CipherInit(i, true); }, "encryptInit"));
  // Multi-part updates and finals: a Promise from the pool, and a *Sync twin.
  for (bool encrypt : {true, false}) {
    std::string verb = encrypt ? "encrypt" : "decrypt";
    auto update = [encrypt](bool now) {
      return [encrypt, now](const Napi::CallbackInfo& i) -> Napi::Value {
        auto prepare = [encrypt, now](const Napi::CallbackInfo& a) { return now ? PrepareCipherUpdate<true>(a, encrypt) : PrepareCipherUpdate<false>(a, encrypt); };
        return now ? RunNow(i, prepare) : QueueWith(i, prepare);
      };
    };
    auto final = [encrypt](bool now) {
      return [encrypt, now](const Napi::CallbackInfo& i) -> Napi::Value {
        auto prepare = [encrypt](const Napi::CallbackInfo& a) { return PrepareCipherFinal(a, encrypt); };
        return now ? RunNow(i, prepare) : QueueWith(i, prepare);
      };
    };
    e.Set(verb + "Update", Napi::Function::New(env, update(false), verb + "Update"));
    e.Set(verb + "UpdateSync", Napi::Function::New(env, update(true), verb + "UpdateSync"));
    e.Set(verb + "Final", Napi::Function::New(env, final(false), verb + "Final"));
    e.Set(verb + "FinalSync", Napi::Function::New(env, final(true), verb + "FinalSync"));
  }
  e.Set("decryptInit", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return CipherInit(i, false); }, "decryptInit"));
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
