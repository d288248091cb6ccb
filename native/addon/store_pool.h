// native/addon/store_pool.h
//
// Calls that may wait on a persistent token's disk (making, changing or deleting objects, whose
// transactions end in an fsync) run on threads of their own rather than on libuv's pool. On libuv's
// four threads they held up every other kind of Node work (fs, dns, zlib, other crypto) while they
// waited, and at most four creates could share a commit (TokenStore's group commit): here up to 32
// wait together and their rows share one (200 in flight on 2 cores: about 15,000 AES token keys/s
// and 8,000 P-256 pairs/s; 64 threads added 10-15%). Results come back to the JS thread in
// batches, through one thread-safe function per environment. The same Promise contract as Queue
// (task.h).
#pragma once

#include <napi.h>

#include <functional>

#include "task.h"

namespace hsm::addon {

// Whether a call on this session goes to the store pool: its token is persistent. False for anything
// that is not a valid session (the queued call reports that).
bool OnPersistentToken(const Napi::Value& session);

// Builds the work on the JS thread with `prepare` and runs it on the store pool; never throws.
Napi::Value QueueOnStore(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare);

// QueueWith / Queue (task.h), or the store pool when the session in argument 0 is on a persistent
// token: for calls that may write it.
Napi::Value QueueWithBySession(const Napi::CallbackInfo& info, const std::function<Prepared(const Napi::CallbackInfo&)>& prepare);
Napi::Value QueueBySession(const Napi::CallbackInfo& info, const std::function<Work(const Napi::CallbackInfo&)>& prepare);

}  // namespace hsm::addon
