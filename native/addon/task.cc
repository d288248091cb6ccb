// native/addon/task.cc
#include "task.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

namespace hsm::addon {

Napi::Value ResultToJs(Napi::Env env, Result& result) {
  return std::visit(
      [&](auto& r) -> Napi::Value {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, std::monostate>) return env.Undefined();
        else if constexpr (std::is_same_v<T, Bytes>) return FromBytes(env, r);
        else if constexpr (std::is_same_v<T, bool>) return Napi::Boolean::New(env, r);
        else if constexpr (std::is_same_v<T, CK_ULONG>) return FromUlong(env, r);
        else if constexpr (std::is_same_v<T, std::vector<CK_ULONG>>) return FromUlongArray(env, r);
        else if constexpr (std::is_same_v<T, CryptOut>) return r.block ? r.block->ToJs(env) : FromBytes(env, r.data);
        else return FromAttributes(env, r);
      },
      result);
}

Outcome RunWork(const Work& work) {
  Outcome o;
  try {
    o.result = work();
    o.ok = true;
  } catch (const Error& e) {
    o.rv = e.rv();
    o.error = e.what();
  } catch (const std::bad_alloc&) {
    o.rv = CKR_HOST_MEMORY;
    o.error = "out of memory";
  } catch (const std::exception& e) {
    o.rv = CKR_GENERAL_ERROR;
    o.error = e.what();
  }
  return o;
}

namespace {

class Task final : public Napi::AsyncWorker {
 public:
  Task(Napi::Env env, Prepared p)
      : Napi::AsyncWorker(env, "sealhsm"), work_(std::move(p.work)), after_(std::move(p.after)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    Outcome o = RunWork(work_);
    work_ = nullptr;  // drop copied inputs (wiped by their allocator) as soon as possible
    if (o.ok) {
      result_ = std::move(o.result);
    } else {
      rv_ = o.rv;
      SetError(o.error);
    }
  }

  void OnOK() override {
    if (after_) after_(Env(), result_);
    Napi::Value v = ResultToJs(Env(), result_);
    result_ = std::monostate{};
    deferred_.Resolve(v);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(CoreError(Env(), rv_, e.Message()).Value()); }

 private:
  Work work_;
  After after_;
  Result result_;
  CK_RV rv_ = CKR_GENERAL_ERROR;
  Napi::Promise::Deferred deferred_;
};

}  // namespace

// Below this an output is copied into an ordinary Buffer: an external Buffer's finalizer costs more
// than copying a few KiB.
constexpr std::size_t kExternalMin = 16 * 1024;

OutBlock::~OutBlock() {
  if (data_ == nullptr || js_ != nullptr) return;
  if (data_ == reserved_data_) {
    if (plaintext_) WipeMemory(data_, capacity_);  // a failed call: the Buffer never reached JavaScript
    return;
  }
  if (plaintext_) WipeMemory(data_, capacity_);
  std::free(data_);
}

void OutBlock::Reserve(Napi::Env env, std::size_t capacity) {
  Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::New(env, capacity);
  reserved_ = Napi::Persistent(b);
  reserved_data_ = b.Data();
  reserved_capacity_ = capacity;
}

uint8_t* OutBlock::Allocate(std::size_t capacity) {
  if (data_ != nullptr) throw std::logic_error("OutBlock allocated twice");
  capacity_ = capacity;
  if (reserved_data_ != nullptr && capacity <= reserved_capacity_) {
    data_ = reserved_data_;
    return data_;
  }
  if (env_ != nullptr && capacity >= kExternalMin) {
    Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::New(Napi::Env(env_), capacity);  // not zero-filled
    js_ = b;
    data_ = b.Data();
    return data_;
  }
  data_ = static_cast<uint8_t*>(std::malloc(capacity == 0 ? 1 : capacity));
  if (data_ == nullptr) throw std::bad_alloc();
  return data_;
}

Napi::Value OutBlock::ToJs(Napi::Env env) {
  if (data_ != nullptr && data_ == reserved_data_) js_ = reserved_.Value();
  if (js_ != nullptr) {
    Napi::Buffer<uint8_t> b(env, js_);
    if (size_ == b.Length()) return b;
    return b.Get("subarray").As<Napi::Function>().Call(b, {Napi::Number::New(env, 0), Napi::Number::New(env, static_cast<double>(size_))});
  }
  if (size_ < kExternalMin) return Napi::Buffer<uint8_t>::Copy(env, data_, size_);  // freed (and wiped) with the block
  uint8_t* p = data_;
  data_ = nullptr;
  return Napi::Buffer<uint8_t>::New(env, p, size_, [](Napi::Env, uint8_t* q) { std::free(q); });
}

Napi::Error CoreError(Napi::Env env, CK_RV rv, const std::string& message) {
  std::string code = RvName(rv);
  Napi::Error err = Napi::Error::New(env, code + ": " + message);
  err.Set("code", Napi::String::New(env, code));
  err.Set("rv", Napi::Number::New(env, static_cast<double>(rv)));
  return err;
}

Napi::Value Queue(const Napi::CallbackInfo& info, const std::function<Work(const Napi::CallbackInfo&)>& prepare) {
  return QueueWith(info, [&](const Napi::CallbackInfo& a) { return Prepared{prepare(a), nullptr}; });
}

Napi::Value QueueWith(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare) {
  Napi::Env env = info.Env();
  try {
    auto* task = new Task(env, prepare(info));  // deletes itself after OnOK / OnError
    Napi::Promise promise = task->Promise();
    task->Queue();
    return promise;
  } catch (const Napi::Error& e) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  }
}

Napi::Value RunNow(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare) {
  Napi::Env env = info.Env();
  Prepared p = prepare(info);  // argument errors throw TypeError / RangeError
  Outcome o = RunWork(p.work);
  if (!o.ok) throw CoreError(env, o.rv, o.error);
  if (p.after) p.after(env, o.result);
  return ResultToJs(env, o.result);
}

Napi::Value SettleNow(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare) {
  auto d = Napi::Promise::Deferred::New(info.Env());
  try {
    d.Resolve(RunNow(info, prepare));
  } catch (const Napi::Error& e) {
    d.Reject(e.Value());
  }
  return d.Promise();
}

// Where the token generates the IV (CloudHSM GCM), it is written back into the caller's `iv` buffer,
// as CloudHSM writes CK_GCM_PARAMS.pIV. For encryption and for wrapping.
After WriteBackIv(const Napi::CallbackInfo& a) {
  Napi::Value m = a[1];
  if (!m.IsObject()) return nullptr;
  Napi::Value iv = m.As<Napi::Object>().Get("iv");
  if (!iv.IsTypedArray() || iv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return nullptr;
  auto ref = std::make_shared<Napi::Reference<Napi::Uint8Array>>(Napi::Persistent(iv.As<Napi::Uint8Array>()));
  return [ref](Napi::Env, const Result& r) {
    const auto* out = std::get_if<CryptOut>(&r);
    Napi::Uint8Array target = ref->Value();
    if (out != nullptr && !out->iv.empty() && target.ByteLength() == out->iv.size()) {
      std::memcpy(target.Data(), out->iv.data(), out->iv.size());
    }
  };
}

}  // namespace hsm::addon
