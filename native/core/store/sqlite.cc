// native/core/store/sqlite.cc
#include "sqlite.h"

namespace hsm::sql {

void Raise(sqlite3* db, const char* what) {
  Fail(CKR_DEVICE_ERROR, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "sqlite"));
}

Stmt::Stmt(sqlite3* db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) Raise(db, "prepare");
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::Bind(int i, int64_t v) {
  if (sqlite3_bind_int64(s_, i, v) != SQLITE_OK) Raise(db_, "bind");
  return *this;
}

Stmt& Stmt::Bind(int i, ByteView b) {
  // SQLITE_TRANSIENT: SQLite copies, so the caller's buffer may be wiped right after.
  if (sqlite3_bind_blob(s_, i, b.size ? b.data : reinterpret_cast<const uint8_t*>(""), static_cast<int>(b.size), SQLITE_TRANSIENT) != SQLITE_OK) {
    Raise(db_, "bind");
  }
  return *this;
}

Stmt& Stmt::Bind(int i, const std::string& t) {
  if (sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT) != SQLITE_OK) Raise(db_, "bind");
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  if (sqlite3_bind_null(s_, i) != SQLITE_OK) Raise(db_, "bind");
  return *this;
}

bool Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Raise(db_, "step");
}

void Stmt::Run() {
  while (Step()) {
  }
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(s_, col); }

Bytes Stmt::Blob(int col) const {
  auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s_, col));
  int n = sqlite3_column_bytes(s_, col);
  return p == nullptr ? Bytes{} : Bytes(p, p + n);
}

std::string Stmt::Text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

Db::Db(const std::string& path, bool create, bool full_sync) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close(db_);
    db_ = nullptr;
    Fail(CKR_DEVICE_ERROR, "cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  Exec("PRAGMA journal_mode=WAL");
  Exec(full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  Exec("PRAGMA foreign_keys=ON");
  Exec("PRAGMA secure_delete=ON");    // deleted rows are overwritten, not left in free pages
}

Db::~Db() {
  cache_.clear();  // finalized before the connection closes
  sqlite3_close_v2(db_);
}

Stmt& Db::Cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, std::make_unique<Stmt>(db_, sql)).first;
  it->second->Reset();
  it->second->ClearBindings();
  return *it->second;
}

void Db::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "exec";
    sqlite3_free(err);
    Fail(CKR_DEVICE_ERROR, msg);
  }
}

int64_t Db::DataVersion() {
  Stmt s(db_, "PRAGMA data_version");
  return s.Step() ? s.Int(0) : 0;
}

WriteTx::WriteTx(Db& db) : db_(db) { db_.Exec("BEGIN IMMEDIATE"); }

WriteTx::~WriteTx() {
  if (!done_) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTx::Commit() {
  db_.Exec("COMMIT");
  done_ = true;
}

}  // namespace hsm::sql
