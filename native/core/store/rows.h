// native/core/store/rows.h
//
// What token_store.cc and user_state.cc share about the rows of token.db: the object columns and
// how a row reads, the encodings of the share list and the wraps, and the record of one change a
// write transaction made. Internal to the store.
#pragma once

#include <map>
#include <set>
#include <string>

#include "sqlite.h"
#include "token_store.h"

namespace hsm {

// One row a write transaction changed: its MAC before (empty for a new row) and after (empty when
// deleted). The token manifest's digest moves by both; when the writer holds the row, its own
// manifest moves by the row's contributions before and after (`old_held`, `new_held`).
struct TokenStore::Change {
  const char* kind;  // "user" | "object"
  std::string name;
  CK_OBJECT_HANDLE handle = 0;
  Bytes old_mac, new_mac;
  Bytes old_held, new_held;
};

namespace rows {

extern const char* const kObjectColumns;  // in RowToObject's order
StoredObject RowToObject(sql::Stmt& s);
std::string JoinShared(const std::set<std::string>& s);
std::set<std::string> SplitShared(const std::string& s);
Bytes EncodeWraps(const std::map<std::string, Bytes>& wraps);
std::map<std::string, Bytes> DecodeWraps(const Bytes& b);  // malformed: one entry no user is named
bool IsKeyClass(CK_OBJECT_CLASS c);
bool IsAsymmetricClass(CK_OBJECT_CLASS c);
[[noreturn]] void Tampered(const std::string& what);  // CKR_SEALHSM_INTEGRITY_FAILURE

}  // namespace rows
}  // namespace hsm
