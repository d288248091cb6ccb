// native/core/session.h
//
// A PKCS#11 session (v3.0 §5.6): flags and one slot per operation kind. An active multi-part
// operation keeps a reference to its key, so the key outlives a concurrent C_DestroyObject.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "mech/mechanism.h"

namespace hsm {

struct ActiveCipher {
  ObjectRef key;
  std::unique_ptr<CipherOp> op;
  const MechanismInfo* mech = nullptr;
  bool updated = false;
};

struct ActiveSign {
  ObjectRef key;
  const MechanismInfo* mech = nullptr;
  std::unique_ptr<SignOp> op;
  bool updated = false;
};

class Session {
 public:
  Session(CK_SESSION_HANDLE h, CK_SLOT_ID slot, CK_FLAGS flags) : handle(h), slot(slot), flags(flags) {}
  const CK_SESSION_HANDLE handle;
  const CK_SLOT_ID slot;
  const CK_FLAGS flags;
  bool ReadWrite() const { return (flags & CKF_RW_SESSION) != 0; }

  std::mutex mu;  // guards everything below
  std::optional<ActiveCipher> encrypt, decrypt;
  std::optional<ActiveSign> sign, verify;
  std::unique_ptr<DigestOp> digest;
  bool digest_updated = false;  // C_DigestUpdate / C_DigestKey ran: C_Digest is CKR_OPERATION_ACTIVE
  bool find_active = false;
  std::vector<CK_OBJECT_HANDLE> find_results;
  std::size_t find_pos = 0;
};

using SessionRef = std::shared_ptr<Session>;

}  // namespace hsm
