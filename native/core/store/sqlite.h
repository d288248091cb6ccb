// native/core/store/sqlite.h
//
// A thin RAII layer over the system SQLite: a connection, prepared statements, and an immediate
// write transaction that rolls back unless committed. Every failure becomes hsm::Error
// (CKR_DEVICE_ERROR, with SQLite's message). Knows nothing of tokens or objects.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "../bytes.h"
#include "../error.h"

namespace hsm::sql {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, ByteView blob);
  Stmt& Bind(int i, const std::string& text);
  Stmt& BindNull(int i);
  bool Step();  // true: a row is ready; false: done
  void Run();   // Step to completion
  int64_t Int(int col) const;
  Bytes Blob(int col) const;
  std::string Text(int col) const;
  bool IsNull(int col) const;
  void Reset() { sqlite3_reset(s_); }
  void ClearBindings() { sqlite3_clear_bindings(s_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

class Db {
 public:
  // Opens (creating the file when `create`) with WAL, foreign keys and a busy timeout for writers
  // in other processes. `full_sync`: synchronous=FULL, so a commit survives power loss (NORMAL
  // survives a crashed process but may lose the last commits on power loss).
  Db(const std::string& path, bool create, bool full_sync);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void Exec(const char* sql);
  int64_t LastRowId() const { return sqlite3_last_insert_rowid(db_); }
  int64_t DataVersion();  // changes when another connection commits
  sqlite3* raw() { return db_; }
  // A statement prepared once per connection and kept, reset and unbound, for the hot paths. `sql`
  // must be a string literal (it is the cache key). Reset again on the next call, so a caller that
  // stops mid-result holds its read snapshot only until then.
  Stmt& Cached(const char* sql);

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted (an exception).
class WriteTx {
 public:
  explicit WriteTx(Db& db);
  ~WriteTx();
  void Commit();

 private:
  Db& db_;
  bool done_ = false;
};

// BEGIN ... COMMIT around reads that must see one snapshot.
class ReadTx {
 public:
  explicit ReadTx(Db& db) : db_(db) { db_.Exec("BEGIN"); }
  ~ReadTx() { sqlite3_exec(db_.raw(), "COMMIT", nullptr, nullptr, nullptr); }
  ReadTx(const ReadTx&) = delete;
  ReadTx& operator=(const ReadTx&) = delete;

 private:
  Db& db_;
};

[[noreturn]] void Raise(sqlite3* db, const char* what);

}  // namespace hsm::sql
