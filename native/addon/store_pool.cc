// native/addon/store_pool.cc
#include "store_pool.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "library.h"

namespace hsm::addon {

namespace {

constexpr unsigned kThreads = 32;

struct EnvQueue;

// One call: made on the JS thread, run on a pool thread, settled back on the JS thread.
struct Job {
  Work work;
  After after;
  napi_deferred deferred;
  Outcome outcome;
  std::shared_ptr<EnvQueue> home;
};

// Per Node environment (the main thread, each worker thread): finished jobs waiting for the JS
// thread, and the thread-safe function that wakes it. The function lives until the environment's
// cleanup, which sets `closed` first (under mu); pool threads touch the function only under mu and
// only while it is open, so none calls into a function the environment has already freed.
struct EnvQueue {
  Napi::ThreadSafeFunction wake;
  std::mutex mu;
  std::vector<Job*> done;
  bool closed = false;        // mu
  std::size_t in_flight = 0;  // JS thread only: the function keeps the loop alive while > 0
};

void SettleAll(Napi::Env env, EnvQueue& q) {
  std::vector<Job*> done;
  {
    std::lock_guard lock(q.mu);
    done.swap(q.done);
  }
  for (Job* job : done) {
    std::unique_ptr<Job> owned(job);
    Napi::HandleScope scope(env);
    napi_value value;
    if (job->outcome.ok) {
      if (job->after) job->after(env, job->outcome.result);
      value = ResultToJs(env, job->outcome.result);
      napi_resolve_deferred(env, job->deferred, value);
    } else {
      value = CoreError(env, job->outcome.rv, job->outcome.error).Value();
      napi_reject_deferred(env, job->deferred, value);
    }
    job->outcome.result = std::monostate{};
    job->after = nullptr;  // its references go on this thread
  }
  q.in_flight -= done.size();
  if (q.in_flight == 0 && !done.empty()) q.wake.Unref(env);
}

class Pool {
 public:
  static Pool& Instance() {
    static Pool* pool = new Pool();  // lives as long as the process; its threads are detached
    return *pool;
  }

  void Submit(Job* job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(job);
    }
    cv_.notify_one();
  }

 private:
  Pool() {
    for (unsigned i = 0; i < kThreads; i++) std::thread([this] { Run(); }).detach();
  }

  void Run() {
    for (;;) {
      Job* job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !jobs_.empty(); });
        job = jobs_.front();
        jobs_.pop_front();
      }
      job->outcome = RunWork(job->work);
      job->work = nullptr;  // copied inputs go now
      std::shared_ptr<EnvQueue> home = std::move(job->home);
      std::lock_guard lock(home->mu);
      // An environment already torn down: nobody is left to settle the job. It is left as it is:
      // what it holds (a Promise, references) belonged to that environment and cannot be freed here.
      if (home->closed) continue;
      bool first = home->done.empty();
      home->done.push_back(job);
      if (first) home->wake.NonBlockingCall();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> jobs_;
};

std::shared_ptr<EnvQueue> QueueFor(Napi::Env env) {
  auto* held = env.GetInstanceData<std::shared_ptr<EnvQueue>>();
  if (held != nullptr) return *held;
  auto q = std::make_shared<EnvQueue>();
  EnvQueue* raw = q.get();
  // The wake-up calls a native function that settles whatever is done. Unreferenced while nothing is
  // in flight, so an idle HSM does not keep the process alive.
  q->wake = Napi::ThreadSafeFunction::New(
      env, Napi::Function::New(env, [raw](const Napi::CallbackInfo& info) { SettleAll(info.Env(), *raw); }), "sealhsm store", 0, 1);
  q->wake.Unref(env);
  auto* slot = new std::shared_ptr<EnvQueue>(q);
  env.SetInstanceData<std::shared_ptr<EnvQueue>>(slot);  // Node deletes it with the environment
  env.AddCleanupHook([raw] {
    {
      std::lock_guard lock(raw->mu);
      raw->closed = true;
    }
    raw->wake.Release();
  });
  return q;
}

}  // namespace

bool OnPersistentToken(const Napi::Value& session) {
  CK_ULONG h = 0;
  if (!PeekUlong(session, &h)) return false;
  try {
    return Library::Instance().Resolve(h).token->Persistent();
  } catch (const Error&) {
    return false;
  }
}

Napi::Value QueueOnStore(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare) {
  Napi::Env env = info.Env();
  napi_deferred deferred;
  napi_value promise;
  if (napi_create_promise(env, &deferred, &promise) != napi_ok) throw Napi::Error::New(env, "cannot make a Promise");
  try {
    Prepared p = prepare(info);
    std::shared_ptr<EnvQueue> q = QueueFor(env);
    if (q->in_flight++ == 0) q->wake.Ref(env);
    Pool::Instance().Submit(new Job{std::move(p.work), std::move(p.after), deferred, {}, std::move(q)});
  } catch (const Napi::Error& e) {
    napi_reject_deferred(env, deferred, e.Value());
  }
  return Napi::Value(env, promise);
}

Napi::Value QueueWithBySession(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare) {
  return OnPersistentToken(info[0]) ? QueueOnStore(info, prepare) : QueueWith(info, prepare);
}

Napi::Value QueueBySession(const Napi::CallbackInfo& info, const std::function<Work(const Napi::CallbackInfo&)>& prepare) {
  return QueueWithBySession(info, [&](const Napi::CallbackInfo& a) { return Prepared{prepare(a), nullptr}; });
}

}  // namespace hsm::addon
