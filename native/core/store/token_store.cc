// native/core/store/token_store.cc
#include "token_store.h"

#include <sys/stat.h>

#include <cstring>
#include <functional>
#include <string>

#include "../ossl.h"

namespace hsm {

namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, salt BLOB NOT NULL, n INTEGER NOT NULL, r INTEGER NOT NULL,
  p INTEGER NOT NULL, verifier BLOB NOT NULL, failures INTEGER NOT NULL, locked INTEGER NOT NULL, master_wrap BLOB);
CREATE TABLE IF NOT EXISTS unseal (id INTEGER PRIMARY KEY CHECK (id = 1), wrap BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
  handle INTEGER PRIMARY KEY AUTOINCREMENT, class INTEGER NOT NULL, key_type INTEGER NOT NULL,
  label BLOB NOT NULL, id BLOB NOT NULL, owner TEXT NOT NULL, shared TEXT NOT NULL,
  attrs BLOB NOT NULL, sealed BLOB);
CREATE INDEX IF NOT EXISTS objects_label ON objects (label);
CREATE INDEX IF NOT EXISTS objects_id ON objects (id);
CREATE INDEX IF NOT EXISTS objects_class ON objects (class, key_type);
CREATE INDEX IF NOT EXISTS objects_owner ON objects (owner);
)";

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string Meta(sql::Db& db, const char* key) {
  sql::Stmt s(db.raw(), "SELECT value FROM meta WHERE key = ?");
  s.Bind(1, std::string(key));
  if (!s.Step()) return {};
  Bytes b = s.Blob(0);
  return std::string(b.begin(), b.end());
}

void PutMeta(sql::Db& db, const char* key, ByteView value) {
  sql::Stmt s(db.raw(), "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  s.Bind(1, std::string(key)).Bind(2, value).Run();
}

std::string JoinShared(const std::set<std::string>& s) {
  std::string out;
  for (const auto& u : s) out += (out.empty() ? "" : ",") + u;
  return out;
}

std::set<std::string> SplitShared(const std::string& s) {
  std::set<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    if (comma > at) out.insert(s.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

StoredObject RowToObject(sql::Stmt& s) {
  StoredObject o;
  o.handle = static_cast<CK_OBJECT_HANDLE>(s.Int(0));
  o.cls = static_cast<CK_OBJECT_CLASS>(s.Int(1));
  o.key_type = static_cast<CK_KEY_TYPE>(s.Int(2));
  o.label = s.Blob(3);
  o.id = s.Blob(4);
  o.owner = s.Text(5);
  o.shared_with = SplitShared(s.Text(6));
  o.attrs = s.Blob(7);
  o.sealed = s.Blob(8);
  return o;
}

constexpr const char* kObjectColumns = "handle, class, key_type, label, id, owner, shared, attrs, sealed";

}  // namespace

Bytes ObjectAad(ByteView token_id, const StoredObject& o) {
  Bytes aad;
  const char tag[] = "sealhsm object v1";
  Append(aad, ByteView(reinterpret_cast<const uint8_t*>(tag), sizeof tag));
  Append(aad, token_id);
  for (CK_ULONG v : {static_cast<CK_ULONG>(o.handle), o.cls, o.key_type}) Append(aad, UlongBytes(v));
  // Length-prefixed, so no two different rows give the same additional data.
  auto field = [&](ByteView b) {
    Append(aad, UlongBytes(b.size));
    Append(aad, b);
  };
  std::string shared = JoinShared(o.shared_with);
  field(o.label);
  field(o.id);
  field(ByteView(reinterpret_cast<const uint8_t*>(o.owner.data()), o.owner.size()));
  field(ByteView(reinterpret_cast<const uint8_t*>(shared.data()), shared.size()));
  field(o.attrs);
  return aad;
}

std::unique_ptr<TokenStore> TokenStore::Open(const std::string& dir, bool create, const std::string& profile, const std::string& label) {
  std::string path = dir + "/token.db";
  if (!IsDir(dir)) {
    if (!create) Fail(CKR_TOKEN_NOT_PRESENT, "no token directory at " + dir);
    if (mkdir(dir.c_str(), 0700) != 0) Fail(CKR_DEVICE_ERROR, "cannot create " + dir);
  }
  bool fresh = !Exists(path);
  if (fresh && !create) Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " is not a sealhsm token (no token.db)");
  std::unique_ptr<TokenStore> t(new TokenStore());
  t->dir_ = dir;
  t->db_ = std::make_unique<sql::Db>(path, create);
  sql::Db& db = *t->db_;
  bool has_meta;
  {
    sql::Stmt s(db.raw(), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    has_meta = s.Step() && s.Int(0) == 1;
  }
  if (!fresh && !has_meta) Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " is not a sealhsm token (token.db has no sealhsm tables)");
  if (has_meta) {
    std::string magic = Meta(db, "magic"), format = Meta(db, "format");
    if (magic != "sealhsm-token") Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " is not a sealhsm token");
    int64_t version = format.empty() ? 0 : std::stoll(format);
    if (version > kFormat) {
      Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " has token format " + format + ", newer than this sealhsm reads (" + std::to_string(kFormat) + "); upgrade sealhsm");
    }
    if (version < 1) Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " has no valid token format version");
  } else {
    sql::WriteTx tx(db);
    db.Exec(kSchema);
    auto put = [&](const char* k, const std::string& v) { PutMeta(db, k, ByteView(reinterpret_cast<const uint8_t*>(v.data()), v.size())); };
    put("magic", "sealhsm-token");
    put("format", std::to_string(kFormat));
    put("profile", profile);
    put("label", label);
    PutMeta(db, "token_id", ossl::RandomBytes(16));
    tx.Commit();
  }
  t->profile_ = Meta(db, "profile");
  t->label_ = Meta(db, "label");
  std::string id = Meta(db, "token_id");
  t->token_id_.assign(id.begin(), id.end());
  if (t->token_id_.size() != 16) Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " has a damaged token id");
  t->data_version_stmt_ = std::make_unique<sql::Stmt>(db.raw(), "PRAGMA data_version");
  t->data_version_ = db.DataVersion();
  return t;
}

bool TokenStore::Changed() {
  std::lock_guard lock(mu_);
  data_version_stmt_->Reset();
  int64_t v = data_version_stmt_->Step() ? data_version_stmt_->Int(0) : 0;
  data_version_stmt_->Reset();
  bool changed = v != data_version_;
  data_version_ = v;
  return changed;
}

std::vector<User> TokenStore::Users() {
  std::lock_guard lock(mu_);
  sql::Stmt s(db_->raw(), "SELECT name, role, salt, n, r, p, verifier, failures, locked, master_wrap FROM users");
  std::vector<User> out;
  while (s.Step()) {
    User u;
    u.name = s.Text(0);
    std::string role = s.Text(1);
    u.role = role == "unactivated-admin" ? Role::kUnactivatedAdmin : RoleFromName(role);
    u.verifier.salt = s.Blob(2);
    u.verifier.n = static_cast<uint64_t>(s.Int(3));
    u.verifier.r = static_cast<uint32_t>(s.Int(4));
    u.verifier.p = static_cast<uint32_t>(s.Int(5));
    u.verifier.hash = s.Blob(6);
    u.failures = static_cast<int>(s.Int(7));
    u.locked = s.Int(8) != 0;
    u.master_wrap = s.Blob(9);
    out.push_back(std::move(u));
  }
  return out;
}

void TokenStore::PutUser(const User& u) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt s(db_->raw(),
              "INSERT INTO users (name, role, salt, n, r, p, verifier, failures, locked, master_wrap) VALUES (?,?,?,?,?,?,?,?,?,?) "
              "ON CONFLICT(name) DO UPDATE SET role=excluded.role, salt=excluded.salt, n=excluded.n, r=excluded.r, p=excluded.p, "
              "verifier=excluded.verifier, failures=excluded.failures, locked=excluded.locked, master_wrap=excluded.master_wrap");
  s.Bind(1, u.name).Bind(2, std::string(RoleName(u.role))).Bind(3, u.verifier.salt).Bind(4, static_cast<int64_t>(u.verifier.n));
  s.Bind(5, static_cast<int64_t>(u.verifier.r)).Bind(6, static_cast<int64_t>(u.verifier.p)).Bind(7, u.verifier.hash);
  s.Bind(8, static_cast<int64_t>(u.failures)).Bind(9, static_cast<int64_t>(u.locked ? 1 : 0)).Bind(10, u.master_wrap).Run();
  tx.Commit();
  data_version_ = db_->DataVersion();
}

void TokenStore::DeleteUser(const std::string& name) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt(db_->raw(), "DELETE FROM users WHERE name = ?").Bind(1, name).Run();
  tx.Commit();
  data_version_ = db_->DataVersion();
}

std::optional<Bytes> TokenStore::UnsealWrap() {
  std::lock_guard lock(mu_);
  sql::Stmt s(db_->raw(), "SELECT wrap FROM unseal WHERE id = 1");
  if (!s.Step()) return std::nullopt;
  return s.Blob(0);
}

void TokenStore::PutUnsealWrap(ByteView wrap) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt(db_->raw(), "INSERT INTO unseal (id, wrap) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET wrap = excluded.wrap").Bind(1, wrap).Run();
  tx.Commit();
}

CK_OBJECT_HANDLE TokenStore::Insert(StoredObject o, const std::function<Bytes(const StoredObject&)>& seal) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  {
    sql::Stmt s(db_->raw(), "INSERT INTO objects (class, key_type, label, id, owner, shared, attrs, sealed) VALUES (?,?,?,?,?,?,?,NULL)");
    s.Bind(1, static_cast<int64_t>(o.cls)).Bind(2, static_cast<int64_t>(o.key_type)).Bind(3, o.label).Bind(4, o.id);
    s.Bind(5, o.owner).Bind(6, JoinShared(o.shared_with)).Bind(7, o.attrs).Run();
  }
  o.handle = static_cast<CK_OBJECT_HANDLE>(db_->LastRowId());
  Bytes sealed = seal(o);
  sql::Stmt(db_->raw(), "UPDATE objects SET sealed = ? WHERE handle = ?").Bind(1, sealed).Bind(2, static_cast<int64_t>(o.handle)).Run();
  tx.Commit();
  data_version_ = db_->DataVersion();
  return o.handle;
}

void TokenStore::Update(const StoredObject& o) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt s(db_->raw(), "UPDATE objects SET label=?, id=?, owner=?, shared=?, attrs=?, sealed=? WHERE handle=?");
  s.Bind(1, o.label).Bind(2, o.id).Bind(3, o.owner).Bind(4, JoinShared(o.shared_with)).Bind(5, o.attrs).Bind(6, o.sealed);
  s.Bind(7, static_cast<int64_t>(o.handle)).Run();
  if (sqlite3_changes(db_->raw()) != 1) Fail(CKR_OBJECT_HANDLE_INVALID, "the object was deleted meanwhile");
  tx.Commit();
  data_version_ = db_->DataVersion();
}

void TokenStore::Delete(CK_OBJECT_HANDLE h) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt(db_->raw(), "DELETE FROM objects WHERE handle = ?").Bind(1, static_cast<int64_t>(h)).Run();
  bool gone = sqlite3_changes(db_->raw()) == 1;
  tx.Commit();
  data_version_ = db_->DataVersion();
  if (!gone) Fail(CKR_OBJECT_HANDLE_INVALID, "no object with handle " + std::to_string(h));
}

std::optional<StoredObject> TokenStore::Load(CK_OBJECT_HANDLE h) {
  std::lock_guard lock(mu_);
  sql::Stmt s(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects WHERE handle = ?").c_str());
  s.Bind(1, static_cast<int64_t>(h));
  if (!s.Step()) return std::nullopt;
  return RowToObject(s);
}

std::vector<StoredObject> TokenStore::Find(const FindQuery& q) {
  std::lock_guard lock(mu_);
  std::string where = "1";
  if (q.cls) where += " AND class = ?";
  if (q.key_type) where += " AND key_type = ?";
  if (q.label) where += " AND label = ?";
  if (q.id) where += " AND id = ?";
  sql::Stmt s(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects WHERE " + where + " ORDER BY handle").c_str());
  int i = 1;
  if (q.cls) s.Bind(i++, static_cast<int64_t>(*q.cls));
  if (q.key_type) s.Bind(i++, static_cast<int64_t>(*q.key_type));
  if (q.label) s.Bind(i++, *q.label);
  if (q.id) s.Bind(i++, *q.id);
  std::vector<StoredObject> out;
  while (s.Step()) out.push_back(RowToObject(s));
  return out;
}

std::size_t TokenStore::CountKeys(bool asymmetric_only) {
  std::lock_guard lock(mu_);
  sql::Stmt s(db_->raw(), asymmetric_only ? "SELECT count(*) FROM objects WHERE class IN (2, 3)" : "SELECT count(*) FROM objects WHERE class IN (2, 3, 4)");
  return s.Step() ? static_cast<std::size_t>(s.Int(0)) : 0;
}

void TokenStore::Backup(const std::string& dest_dir) {
  if (Exists(dest_dir + "/token.db")) Fail(CKR_ARGUMENTS_BAD, dest_dir + " already holds a token");
  if (!IsDir(dest_dir) && mkdir(dest_dir.c_str(), 0700) != 0) Fail(CKR_DEVICE_ERROR, "cannot create " + dest_dir);
  sql::Db dest(dest_dir + "/token.db", true);
  std::lock_guard lock(mu_);
  sqlite3_backup* b = sqlite3_backup_init(dest.raw(), "main", db_->raw(), "main");
  if (b == nullptr) sql::Raise(dest.raw(), "backup");
  int rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) sql::Raise(dest.raw(), "backup");
}

}  // namespace hsm
