// native/core/library.h
//
// The process-wide library (PKCS#11 v3.0 §5.4–5.6): slots holding tokens, and the session-handle
// space shared by every door. Doors resolve a session handle here and then call the token.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "token.h"

namespace hsm {

struct Bound {
  std::shared_ptr<Token> token;
  SessionRef session;
};

class Library {
 public:
  static Library& Instance();

  // `wanted`: the slot id a configuration fixes (the PKCS#11 module's slot lines), so it is the same
  // in every C_Initialize cycle and every process; CKR_SLOT_ID_INVALID when taken. 0: the next free id.
  CK_SLOT_ID AddToken(std::shared_ptr<Token> token, CK_SLOT_ID wanted = 0);
  void RemoveToken(CK_SLOT_ID slot);  // closes its sessions
  std::shared_ptr<Token> TokenAt(CK_SLOT_ID slot) const;
  std::vector<CK_SLOT_ID> SlotIds() const;

  CK_SESSION_HANDLE OpenSession(CK_SLOT_ID slot, CK_FLAGS flags);
  void CloseSession(CK_SESSION_HANDLE h);
  void CloseAllSessions(CK_SLOT_ID slot);
  Bound Resolve(CK_SESSION_HANDLE h) const;  // CKR_SESSION_HANDLE_INVALID when unknown
  std::size_t SessionCount(CK_SLOT_ID slot) const;
  std::vector<CK_SESSION_HANDLE> SessionsOf(CK_SLOT_ID slot) const;
  // After fork(): the parent's tokens and sessions are set aside, never used or closed here (their
  // SQLite connections belong to the parent).
  void ForgetAllAfterFork();

 private:
  mutable std::shared_mutex mu_;
  std::map<CK_SLOT_ID, std::shared_ptr<Token>> tokens_;
  std::map<CK_SESSION_HANDLE, Bound> sessions_;
  CK_SLOT_ID next_slot_ = 1;
  CK_SESSION_HANDLE next_session_ = 1;
};

}  // namespace hsm
