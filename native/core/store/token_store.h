// native/core/store/token_store.h
//
// A token directory (DESIGN "Storage"): one SQLite database, token.db, in WAL mode; every change one
// transaction, so a crash never leaves half a key and several processes share the token. Rows hold
// only sealed key material and non-sensitive attributes; the indexed columns (class, key type,
// label, id, owner) make finding one key among 100,000 a lookup. Knows nothing of sessions or N-API.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../users.h"
#include "sqlite.h"

namespace hsm {

struct StoredObject {
  CK_OBJECT_HANDLE handle = 0;
  CK_OBJECT_CLASS cls = 0;
  CK_KEY_TYPE key_type = 0;
  Bytes label, id;
  std::string owner;
  std::set<std::string> shared_with;
  Bytes attrs;   // every readable attribute, encoded (EncodeTemplate)
  Bytes sealed;  // AES-256-GCM(master, key material or nothing), AAD binding everything above
};

struct FindQuery {
  std::optional<CK_OBJECT_CLASS> cls;
  std::optional<CK_KEY_TYPE> key_type;
  std::optional<Bytes> label, id;
};

class TokenStore {
 public:
  static constexpr int64_t kFormat = 1;

  // Opens an existing token directory, or makes one when `create` (the directory may exist but must
  // not hold a token). Refuses a directory that is not a sealhsm token, or one of a newer format.
  static std::unique_ptr<TokenStore> Open(const std::string& dir, bool create, const std::string& profile, const std::string& label);

  const std::string& profile() const { return profile_; }
  const std::string& label() const { return label_; }
  ByteView token_id() const { return token_id_; }
  const std::string& dir() const { return dir_; }

  // True when another connection (process) committed since the last call.
  bool Changed();

  std::vector<User> Users();
  void PutUser(const User& u);
  void DeleteUser(const std::string& name);
  std::optional<Bytes> UnsealWrap();
  void PutUnsealWrap(ByteView wrap);

  // Inserts a row and seals it in the same transaction: `seal(handle)` makes the sealed blob once
  // the handle is known (it is part of the AAD).
  CK_OBJECT_HANDLE Insert(StoredObject obj, const std::function<Bytes(const StoredObject&)>& seal);
  void Update(const StoredObject& obj);
  void Delete(CK_OBJECT_HANDLE h);
  std::optional<StoredObject> Load(CK_OBJECT_HANDLE h);
  std::vector<StoredObject> Find(const FindQuery& q);
  std::size_t CountKeys(bool asymmetric_only);

  // A consistent copy of the live token into `dest_dir` (SQLite's online backup).
  void Backup(const std::string& dest_dir);

 private:
  TokenStore() = default;
  std::mutex mu_;  // one connection per token object; calls are serialized
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<sql::Stmt> data_version_stmt_;  // prepared once: checked before every operation
  std::string dir_, profile_, label_;
  Bytes token_id_;
  int64_t data_version_ = 0;
};

// The additional data that binds a sealed object blob to its row.
Bytes ObjectAad(ByteView token_id, const StoredObject& o);

}  // namespace hsm
