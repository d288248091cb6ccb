// native/core/library.cc
#include "library.h"

#include <mutex>

namespace hsm {

Library& Library::Instance() {
  static Library* lib = new Library();  // never destroyed: worker threads may outlive static teardown
  return *lib;
}

CK_SLOT_ID Library::AddToken(std::shared_ptr<Token> token, CK_SLOT_ID wanted) {
  std::unique_lock lock(mu_);
  if (wanted != 0 && tokens_.count(wanted)) Fail(CKR_SLOT_ID_INVALID, "slot " + std::to_string(wanted) + " is taken");
  while (wanted == 0 && tokens_.count(next_slot_)) next_slot_++;
  CK_SLOT_ID id = wanted != 0 ? wanted : next_slot_++;
  tokens_.emplace(id, std::move(token));
  return id;
}

void Library::RemoveToken(CK_SLOT_ID slot) {
  CloseAllSessions(slot);
  std::unique_lock lock(mu_);
  if (tokens_.erase(slot) == 0) Fail(CKR_SLOT_ID_INVALID, "no such slot");
}

std::shared_ptr<Token> Library::TokenAt(CK_SLOT_ID slot) const {
  std::shared_lock lock(mu_);
  auto it = tokens_.find(slot);
  if (it == tokens_.end()) Fail(CKR_SLOT_ID_INVALID, "no such slot");
  return it->second;
}

std::vector<CK_SLOT_ID> Library::SlotIds() const {
  std::shared_lock lock(mu_);
  std::vector<CK_SLOT_ID> ids;
  for (const auto& kv : tokens_) ids.push_back(kv.first);
  return ids;
}

CK_SESSION_HANDLE Library::OpenSession(CK_SLOT_ID slot, CK_FLAGS flags) {
  if ((flags & CKF_SERIAL_SESSION) == 0) Fail(CKR_SESSION_PARALLEL_NOT_SUPPORTED, "CKF_SERIAL_SESSION must be set");
  std::unique_lock lock(mu_);
  auto it = tokens_.find(slot);
  if (it == tokens_.end()) Fail(CKR_SLOT_ID_INVALID, "no such slot");
  std::size_t open = 0;
  for (const auto& kv : sessions_) open += kv.second.session->slot == slot ? 1 : 0;
  if (open >= it->second->profile().max_sessions) {
    Fail(CKR_SESSION_COUNT, "the session quota (" + std::to_string(it->second->profile().max_sessions) + ") is reached");
  }
  CK_SESSION_HANDLE h = next_session_++;
  sessions_.emplace(h, Bound{it->second, std::make_shared<Session>(h, slot, flags)});
  return h;
}

void Library::CloseSession(CK_SESSION_HANDLE h) {
  Bound b;
  {
    std::unique_lock lock(mu_);
    auto it = sessions_.find(h);
    if (it == sessions_.end()) Fail(CKR_SESSION_HANDLE_INVALID, "no such session");
    b = std::move(it->second);
    sessions_.erase(it);
  }
  b.token->DropSessionObjects(h);
}

void Library::CloseAllSessions(CK_SLOT_ID slot) {
  std::vector<Bound> closed;
  {
    std::unique_lock lock(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.session->slot == slot) {
        closed.push_back(std::move(it->second));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& b : closed) b.token->DropSessionObjects(b.session->handle);
}

Bound Library::Resolve(CK_SESSION_HANDLE h) const {
  std::shared_lock lock(mu_);
  auto it = sessions_.find(h);
  if (it == sessions_.end()) Fail(CKR_SESSION_HANDLE_INVALID, "no such session");
  return it->second;
}

std::vector<CK_SESSION_HANDLE> Library::SessionsOf(CK_SLOT_ID slot) const {
  std::shared_lock lock(mu_);
  std::vector<CK_SESSION_HANDLE> out;
  for (const auto& kv : sessions_) {
    if (kv.second.session->slot == slot) out.push_back(kv.first);
  }
  return out;
}

void Library::ForgetAllAfterFork() {
  static auto* graveyard = new std::vector<std::shared_ptr<Token>>();  // never freed on purpose
  std::unique_lock lock(mu_);
  for (auto& kv : tokens_) graveyard->push_back(std::move(kv.second));
  for (auto& kv : sessions_) graveyard->push_back(std::move(kv.second.token));
  tokens_.clear();
  sessions_.clear();
}

std::size_t Library::SessionCount(CK_SLOT_ID slot) const {
  std::shared_lock lock(mu_);
  std::size_t n = 0;
  for (const auto& kv : sessions_) n += kv.second.session->slot == slot ? 1 : 0;
  return n;
}

}  // namespace hsm
