// native/core/store/token_store.cc
#include "token_store.h"

#include <sys/stat.h>

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <exception>
#include <functional>
#include <string>

#include "../ossl.h"
#include "operator_log.h"
#include "rows.h"

namespace hsm {

using namespace rows;  // NOLINT: the row helpers this file and user_state.cc share

namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, salt BLOB NOT NULL, n INTEGER NOT NULL, r INTEGER NOT NULL,
  p INTEGER NOT NULL, verifier BLOB NOT NULL, keys_wrap BLOB NOT NULL, kx_public BLOB NOT NULL, sign_public BLOB NOT NULL,
  cert BLOB NOT NULL, privates BLOB NOT NULL, gen INTEGER NOT NULL, mac BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (name TEXT PRIMARY KEY, failures INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS unseal (id INTEGER PRIMARY KEY CHECK (id = 1), user TEXT NOT NULL, wrap BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS user_state (name TEXT PRIMARY KEY, manifest BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
  handle INTEGER PRIMARY KEY AUTOINCREMENT, class INTEGER NOT NULL, key_type INTEGER NOT NULL,
  label BLOB NOT NULL, id BLOB NOT NULL, owner TEXT NOT NULL, shared TEXT NOT NULL,
  attrs BLOB NOT NULL, sealed BLOB NOT NULL, holder TEXT NOT NULL, sgen INTEGER NOT NULL, wraps BLOB NOT NULL,
  sig BLOB NOT NULL, tsig BLOB NOT NULL, gen INTEGER NOT NULL, mac BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS objects_label ON objects (label);
CREATE INDEX IF NOT EXISTS objects_id ON objects (id);
CREATE INDEX IF NOT EXISTS objects_class ON objects (class, key_type);
CREATE INDEX IF NOT EXISTS objects_owner ON objects (owner);
CREATE INDEX IF NOT EXISTS objects_holder ON objects (holder);
CREATE TABLE IF NOT EXISTS changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, gen INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
  handle INTEGER NOT NULL, old_mac BLOB, new_mac BLOB, holder TEXT NOT NULL, old_held BLOB, new_held BLOB);
CREATE INDEX IF NOT EXISTS changes_gen ON changes (gen);
)";

// How many generations of the change log are kept for other processes to catch up with; one that
// falls further behind verifies the whole token again.
constexpr int64_t kChangeLogGenerations = 10000;

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::optional<Bytes> MetaBytes(sql::Db& db, const char* key) {
  sql::Stmt& s = db.Cached("SELECT value FROM meta WHERE key = ?");
  s.Bind(1, std::string(key));
  std::optional<Bytes> out;
  if (s.Step()) out = s.Blob(0);
  s.Reset();  // ends the statement's read now, not at its next use
  return out;
}

std::string Meta(sql::Db& db, const char* key) {
  auto b = MetaBytes(db, key);
  return b ? std::string(b->begin(), b->end()) : std::string();
}

void PutMeta(sql::Db& db, const char* key, ByteView value) {
  db.Cached("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .Bind(1, std::string(key)).Bind(2, value).Run();
}

void PutMetaText(sql::Db& db, const char* key, const std::string& v) {
  PutMeta(db, key, ByteView(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
}

constexpr const char* kUserColumns =
    "u.name, u.role, u.salt, u.n, u.r, u.p, u.verifier, u.keys_wrap, u.kx_public, u.sign_public, u.cert, u.privates, u.gen, u.mac";
constexpr int kUserColumnCount = 14;

User RowToUser(sql::Stmt& s) {
  User u;
  u.name = s.Text(0);
  std::string role = s.Text(1);
  u.role = role == "admin" ? Role::kAdmin : role == "crypto-user" ? Role::kCryptoUser : Role::kUnactivatedAdmin;
  u.verifier = {s.Blob(2), static_cast<uint64_t>(s.Int(3)), static_cast<uint32_t>(s.Int(4)), static_cast<uint32_t>(s.Int(5)), s.Blob(6)};
  u.keys_wrap = s.Blob(7);
  u.kx_public = s.Blob(8);
  u.sign_public = s.Blob(9);
  u.cert = s.Blob(10);
  u.privates = s.Blob(11);
  u.gen = s.Int(12);
  u.mac = s.Blob(13);
  return u;
}

}  // namespace


std::string DescribeObject(const StoredObject& row) {
  char b[40];
  snprintf(b, sizeof b, "object 0x%lx", static_cast<unsigned long>(row.handle));
  std::string d = b;
  if (!row.label.empty()) d += " ('" + std::string(row.label.begin(), row.label.end()) + "')";
  return d;
}

Bytes ObjectState(ByteView token_id, const StoredObject& o) {
  statemac::Message m("sealhsm object v3");
  m.Add(token_id).Add(static_cast<uint64_t>(o.handle)).Add(static_cast<uint64_t>(o.cls)).Add(static_cast<uint64_t>(o.key_type));
  m.Add(o.label).Add(o.id).Add(o.owner).Add(JoinShared(o.shared_with)).Add(o.attrs).Add(o.sealed).Add(o.holder);
  m.Add(static_cast<uint64_t>(o.sgen)).Add(EncodeWraps(o.wraps)).Add(o.sig).Add(o.tsig).Add(static_cast<uint64_t>(o.gen));
  return m.bytes();
}

std::unique_ptr<TokenStore> TokenStore::Open(const std::string& dir, const StoreOptions& o) {
  std::string path = dir + "/token.db";
  if (!IsDir(dir)) {
    if (!o.create) Fail(CKR_TOKEN_NOT_PRESENT, "no token directory at " + dir);
    if (mkdir(dir.c_str(), 0700) != 0) Fail(CKR_DEVICE_ERROR, "cannot create " + dir);
  }
  bool fresh = !Exists(path);
  if (fresh && !o.create) Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " is not a sealhsm token (no token.db)");
  std::unique_ptr<TokenStore> t(new TokenStore());
  t->dir_ = dir;
  t->db_ = std::make_unique<sql::Db>(path, o.create, o.full_sync);
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
    int64_t version = format.empty() || format.size() > 9 || format.find_first_not_of("0123456789") != std::string::npos ? 0 : std::stoll(format);
    if (version > kFormat) {
      Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " has token format " + format + ", newer than this sealhsm reads (" + std::to_string(kFormat) + "); upgrade sealhsm");
    }
    if (version < 1) Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " has no valid token format version");
    if (version == 2) {
      Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " has token format 2, where one user's password opens every user's keys; migrate it with " +
                                         "`sealhsm token migrate --dir " + dir + "` (it asks for the admin's and every user's password)");
    }
    if (version < kFormat) {
      Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " has token format " + format + ", which has no authenticated token state; make a new token and move the keys with wrap/unwrap");
    }
  } else {
    sql::WriteTx tx(db);
    db.Exec(kSchema);
    PutMetaText(db, "magic", "sealhsm-token");
    PutMetaText(db, "format", std::to_string(kFormat));
    PutMetaText(db, "profile", o.profile);
    PutMetaText(db, "label", o.label);
    PutMetaText(db, "max_failed_logins", std::to_string(o.max_failed_logins));
    PutMeta(db, "token_id", ossl::RandomBytes(16));
    tx.Commit();
  }
  t->profile_ = Meta(db, "profile");
  t->label_ = Meta(db, "label");
  std::string max = Meta(db, "max_failed_logins");
  t->max_failed_logins_ = max.empty() || max.size() > 6 ? -1 : std::atoi(max.c_str());
  std::string id = Meta(db, "token_id");
  t->token_id_.assign(id.begin(), id.end());
  if (t->token_id_.size() != 16) Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " has a damaged token id");
  t->mark_ = std::make_unique<GenerationMark>(dir + "/generation", o.generation_mirror);
  t->mirror_ = o.generation_mirror;
  t->data_version_stmt_ = std::make_unique<sql::Stmt>(db.raw(), "PRAGMA data_version");
  t->data_version_ = db.DataVersion();
  return t;
}

// ---------------------------------------------------------------- the state key and the manifest

namespace {

Bytes HeaderMac(ByteView key, ByteView token_id, sql::Db& db) {
  statemac::Message m("sealhsm header v3");
  m.Add(token_id);
  for (const char* k : {"magic", "format", "profile", "label", "max_failed_logins", "admin_public"}) m.Add(std::string(k)).Add(Meta(db, k));
  return m.Sign(key);
}

}  // namespace

Bytes TokenStore::RowMac(const StoredObject& o) const {
  statemac::Message m("sealhsm object row v3");
  m.Add(ObjectState(token_id_, o));
  return m.Sign(state_key_.view());
}

Bytes TokenStore::UserMac(const User& u, int64_t gen) const {
  statemac::Message m("sealhsm user row v3");
  m.Add(token_id_).Add(u.name).Add(std::string(RoleName(u.role))).Add(u.verifier.salt).Add(u.verifier.n);
  m.Add(static_cast<uint64_t>(u.verifier.r)).Add(static_cast<uint64_t>(u.verifier.p)).Add(u.verifier.hash).Add(u.keys_wrap);
  m.Add(u.kx_public).Add(u.sign_public).Add(u.cert).Add(u.privates);
  m.Add(static_cast<uint64_t>(gen));
  return m.Sign(state_key_.view());
}

bool TokenStore::HasState() {
  std::lock_guard lock(mu_);
  return MetaBytes(*db_, "manifest").has_value();
}

statemac::Manifest TokenStore::ReadManifest() {
  auto blob = MetaBytes(*db_, "manifest");
  if (!blob) Tampered("the token manifest: it is missing");
  return statemac::Manifest::Decode(state_key_.view(), token_id_, *blob);
}

bool TokenStore::RowMacOk(const StoredObject& o) const {
  Bytes want = RowMac(o);
  return o.mac.size() == want.size() && CRYPTO_memcmp(o.mac.data(), want.data(), want.size()) == 0;
}

void TokenStore::VerifyAllRows(const statemac::Manifest& m, std::set<std::string>* damaged_users, bool each_row) {
  statemac::Manifest found;
  {
    sql::Stmt s(db_->raw(), (std::string("SELECT ") + kUserColumns + " FROM users u").c_str());
    while (s.Step()) {
      User u = RowToUser(s);
      statemac::XorInto(found.digest, u.mac);
      found.rows++;
      if (!UserMacOk(u) && damaged_users != nullptr) damaged_users->insert(u.name);
    }
  }
  if (each_row) {
    damaged_objects_.clear();
    sql::Stmt s(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects").c_str());
    while (s.Step()) {
      StoredObject o = RowToObject(s);
      statemac::XorInto(found.digest, o.mac);
      found.rows++;
      if (!RowMacOk(o)) damaged_objects_.insert(o.handle);
    }
  } else {
    sql::Stmt s(db_->raw(), "SELECT mac FROM objects");
    while (s.Step()) {
      statemac::XorInto(found.digest, s.Blob(0));
      found.rows++;
    }
  }
  if (found.rows != m.rows || CRYPTO_memcmp(found.digest.data(), m.digest.data(), statemac::kMacBytes) != 0) {
    Tampered("the token: its rows do not match its manifest (" + std::to_string(found.rows) + " rows, " + std::to_string(m.rows) +
             " expected): a row was deleted, inserted or restored from an older copy");
  }
}

void TokenStore::Poison(const std::string& what) {
  if (poisoned_.empty()) poisoned_ = what;
  Tampered(poisoned_);
}

void TokenStore::ThrowIfPoisoned() const {
  if (!poisoned_.empty()) Tampered(poisoned_ + "; this process refuses the token from now on (restart it once the token is restored)");
}

std::set<std::string> TokenStore::Unlock(ByteView master, const std::string* accept_rollback_by) {
  std::lock_guard lock(mu_);
  ThrowIfPoisoned();
  SecureBytes key = statemac::DeriveKey(master);
  state_key_ = std::move(key);
  try {
    std::set<std::string> damaged;
    auto header = MetaBytes(*db_, "header_mac");
    if (!MetaBytes(*db_, "manifest")) {
      sql::Stmt s(db_->raw(), "SELECT count(*) FROM users");
      if (header || (s.Step() && s.Int(0) != 0)) Tampered("the token: it has users but no manifest");
      sql::WriteTx tx(*db_);
      PutMeta(*db_, "header_mac", HeaderMac(state_key_.view(), token_id_, *db_));
      PutMeta(*db_, "manifest", statemac::Manifest{}.Encode(state_key_.view(), token_id_));
      tx.Commit();
      known_ = statemac::Manifest{};
      return damaged;
    }
    Bytes want = HeaderMac(state_key_.view(), token_id_, *db_);
    if (!header || header->size() != want.size() || CRYPTO_memcmp(header->data(), want.data(), want.size()) != 0) {
      Tampered("the token header (profile, label, format or lockout): it was edited");
    }
    // The mark is read before the snapshot: it is written after each commit, so every generation it
    // holds is in any snapshot taken later (read after, it could name a commit made meanwhile).
    int64_t acknowledged = std::max(mark_->Highest(state_key_.view(), token_id_), highest_seen_);
    sql::ReadTx snapshot(*db_);  // the manifest and the rows from one snapshot
    known_ = ReadManifest();
    VerifyAllRows(known_, &damaged, /*each_row=*/true);
    data_version_ = db_->DataVersion();
    if (known_.gen < acknowledged) {
      std::string what = "the token: its generation is " + std::to_string(known_.gen) + " but generation " + std::to_string(acknowledged) +
                         " was acknowledged (token.db was restored from an older copy, or its write-ahead log was cut off)";
      if (accept_rollback_by == nullptr) Tampered(what + "; an admin who means to go back accepts it with `sealhsm token accept-rollback`");
      AppendOperatorLog(dir_, *accept_rollback_by + " accepted generation " + std::to_string(known_.gen) + " where " + std::to_string(acknowledged) +
                                  " had been acknowledged");  // the record first, then the act
      mark_->Reset(state_key_.view(), token_id_, known_.gen);
      highest_seen_ = known_.gen;
    } else {
      mark_->Advance(state_key_.view(), token_id_, known_.gen);  // a token made before marks existed gets one
      highest_seen_ = known_.gen;
    }
    return damaged;
  } catch (...) {
    state_key_ = SecureBytes();
    throw;
  }
}

void TokenStore::Lock() {
  std::lock_guard lock(mu_);
  state_key_ = SecureBytes();
  writer_.clear();
  writer_mac_ = SecureBytes();
  writer_known_.reset();
  damaged_objects_.clear();  // found again at the next unlock
}

StoreChanges TokenStore::Poll() {
  std::lock_guard lock(mu_);
  ThrowIfPoisoned();
  data_version_stmt_->Reset();
  int64_t v = data_version_stmt_->Step() ? data_version_stmt_->Int(0) : 0;
  data_version_stmt_->Reset();
  StoreChanges out;
  if (v == data_version_) return out;
  data_version_ = v;
  if (state_key_.empty()) {
    out.all = true;
    return out;
  }
  // The writer's mark before the snapshot, as at Unlock: written after each commit, read later it
  // could name a commit this snapshot does not hold.
  int64_t writer_acknowledged = writer_.empty() ? 0 : UserMark(writer_).Highest(writer_mac_.view(), UserScope(writer_));
  sql::ReadTx snapshot(*db_);
  statemac::Manifest m = ReadManifest();
  if (m.gen < known_.gen) {
    Poison("the token: its generation went back from " + std::to_string(known_.gen) + " to " + std::to_string(m.gen) +
           " (it was restored from an older copy, or its write-ahead log was cut off)");
  }
  if (m.gen == known_.gen) {
    // A commit that raised no generation writes only login counts; anything else is an edit.
    out.users = true;
    VerifyAllRows(m, nullptr);
    // A commit that left the manifest as it was (login counts; SQLite's checkpoints move the data
    // version too) changed no held row: the writer's manifest is checked against what it followed.
    // Rows changed under an unchanged generation are counted again, in full.
    bool same = m.rows == known_.rows && CRYPTO_memcmp(m.digest.data(), known_.digest.data(), statemac::kMacBytes) == 0;
    CheckWriterState(writer_acknowledged, same ? writer_known_ : std::nullopt);
    return out;
  }
  sql::Stmt s(db_->raw(), "SELECT gen, kind, handle, old_mac, new_mac, holder, old_held, new_held FROM changes WHERE gen > ? ORDER BY seq");
  s.Bind(1, known_.gen);
  statemac::Manifest next = known_;
  std::optional<statemac::Manifest> mine = writer_known_;  // the writer's manifest, followed likewise
  int64_t expect = known_.gen + 1;
  bool gap = false;
  while (s.Step()) {
    int64_t gen = s.Int(0);
    if (gen != expect && gen != expect - 1) gap = true;
    expect = gen + 1;
    if (s.Text(1) == "object") {
      out.objects.push_back(static_cast<CK_OBJECT_HANDLE>(s.Int(2)));
    } else {
      out.users = true;
    }
    Bytes before = s.Blob(3), after = s.Blob(4);
    if (!before.empty()) statemac::XorInto(next.digest, before), next.rows--;
    if (!after.empty()) statemac::XorInto(next.digest, after), next.rows++;
    if (mine && !writer_.empty() && s.Text(5) == writer_) {
      Bytes held_before = s.Blob(6), held_after = s.Blob(7);
      if (!held_before.empty()) statemac::XorInto(mine->digest, held_before), mine->rows--;
      if (!held_after.empty()) statemac::XorInto(mine->digest, held_after), mine->rows++;
    }
  }
  next.gen = expect - 1;
  if (gap || next.gen != m.gen) {  // the log no longer reaches back: check everything
    VerifyAllRows(m, nullptr);
    out.all = true;
  } else if (next.rows != m.rows || CRYPTO_memcmp(next.digest.data(), m.digest.data(), statemac::kMacBytes) != 0) {
    Tampered("the token: its change log does not match its manifest");
  }
  if (out.all || !out.objects.empty()) CheckWriterState(writer_acknowledged, out.all || gap ? std::nullopt : mine);
  known_ = m;
  highest_seen_ = std::max(highest_seen_, m.gen);
  return out;
}

void TokenStore::Write(const std::function<void(int64_t gen, std::vector<Change>& changes)>& body) {
  ThrowIfPoisoned();
  if (state_key_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "log in to change the token (its state is signed with the state key)");
  sql::WriteTx tx(*db_);
  statemac::Manifest m = ReadManifest();
  if (m.gen < known_.gen) {
    Poison("the token: its generation went back from " + std::to_string(known_.gen) + " to " + std::to_string(m.gen) +
           " (it was restored from an older copy, or its write-ahead log was cut off)");
  }
  bool current = m.gen == known_.gen;
  std::vector<Change> changes;
  m.gen++;
  body(m.gen, changes);
  sql::Stmt& log = db_->Cached("INSERT INTO changes (gen, kind, name, handle, old_mac, new_mac, holder, old_held, new_held) VALUES (?,?,?,?,?,?,?,?,?)");
  for (const Change& c : changes) {
    if (!c.old_mac.empty()) statemac::XorInto(m.digest, c.old_mac), m.rows--;
    if (!c.new_mac.empty()) statemac::XorInto(m.digest, c.new_mac), m.rows++;
    log.Reset();
    log.Bind(1, m.gen).Bind(2, std::string(c.kind)).Bind(3, c.name).Bind(4, static_cast<int64_t>(c.handle));
    if (c.old_mac.empty()) log.BindNull(5); else log.Bind(5, c.old_mac);
    if (c.new_mac.empty()) log.BindNull(6); else log.Bind(6, c.new_mac);
    // The writer's contributions, for its other processes to follow its manifest (Poll).
    bool held = !c.old_held.empty() || !c.new_held.empty();
    log.Bind(7, held ? writer_ : std::string());
    if (c.old_held.empty()) log.BindNull(8); else log.Bind(8, c.old_held);
    if (c.new_held.empty()) log.BindNull(9); else log.Bind(9, c.new_held);
    log.Run();
  }
  std::optional<statemac::Manifest> mine = ApplyToWriterState(m.gen, changes);
  PutMeta(*db_, "manifest", m.Encode(state_key_.view(), token_id_));
  if (m.gen % 256 == 0) sql::Stmt(db_->raw(), "DELETE FROM changes WHERE gen <= ?").Bind(1, m.gen - kChangeLogGenerations).Run();
  tx.Commit();
  if (current) known_ = m;  // otherwise Poll catches up with the other process's writes first
  if (current && mine && writer_known_) writer_known_ = mine;
  highest_seen_ = std::max(highest_seen_, m.gen);
  mark_->Advance(state_key_.view(), token_id_, m.gen);  // once the commit is durable
  bool held = std::any_of(changes.begin(), changes.end(), [](const Change& c) { return !c.old_held.empty() || !c.new_held.empty(); });
  if (held) UserMark(writer_).Advance(writer_mac_.view(), UserScope(writer_), m.gen);
}

// ---------------------------------------------------------------- users

std::vector<User> TokenStore::Users() {
  std::lock_guard lock(mu_);
  sql::Stmt s(db_->raw(), (std::string("SELECT ") + kUserColumns + ", coalesce(f.failures, 0) FROM users u LEFT JOIN login_failures f ON f.name = u.name").c_str());
  std::vector<User> out;
  while (s.Step()) {
    User u = RowToUser(s);
    int64_t f = s.Int(kUserColumnCount);
    u.failures = f < 0 ? 0 : f > 1000000 ? 1000000 : static_cast<int>(f);
    out.push_back(std::move(u));
  }
  return out;
}

bool TokenStore::UserMacOk(const User& u) const {
  Bytes want = UserMac(u, u.gen);
  return u.mac.size() == want.size() && CRYPTO_memcmp(u.mac.data(), want.data(), want.size()) == 0;
}

bool TokenStore::VerifyUser(const User& u) {
  std::lock_guard lock(mu_);
  return !state_key_.empty() && UserMacOk(u);
}

void TokenStore::PutUser(User& u, const SecureBytes* fresh_mac_key) {
  std::lock_guard lock(mu_);
  Write([&](int64_t gen, std::vector<Change>& changes) {
    if (fresh_mac_key != nullptr) {
      statemac::Manifest empty;
      empty.gen = gen;
      PutUserState(u.name, fresh_mac_key->view(), empty);
    }
    WriteUserRow(u, gen, changes);
  });
}

void TokenStore::WriteUserRow(User& u, int64_t gen, std::vector<Change>& changes) {
  Change c{"user", u.name, 0, {}, UserMac(u, gen)};
  {
    sql::Stmt old(db_->raw(), "SELECT mac FROM users WHERE name = ?");
    old.Bind(1, u.name);
    if (old.Step()) c.old_mac = old.Blob(0);
  }
  sql::Stmt s(db_->raw(),
              "INSERT INTO users (name, role, salt, n, r, p, verifier, keys_wrap, kx_public, sign_public, cert, privates, gen, mac) "
              "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
              "ON CONFLICT(name) DO UPDATE SET role=excluded.role, salt=excluded.salt, n=excluded.n, r=excluded.r, p=excluded.p, "
              "verifier=excluded.verifier, keys_wrap=excluded.keys_wrap, kx_public=excluded.kx_public, sign_public=excluded.sign_public, "
              "cert=excluded.cert, privates=excluded.privates, gen=excluded.gen, mac=excluded.mac");
  s.Bind(1, u.name).Bind(2, std::string(RoleName(u.role))).Bind(3, u.verifier.salt).Bind(4, static_cast<int64_t>(u.verifier.n));
  s.Bind(5, static_cast<int64_t>(u.verifier.r)).Bind(6, static_cast<int64_t>(u.verifier.p)).Bind(7, u.verifier.hash);
  s.Bind(8, u.keys_wrap).Bind(9, u.kx_public).Bind(10, u.sign_public).Bind(11, u.cert).Bind(12, u.privates);
  s.Bind(13, gen).Bind(14, c.new_mac).Run();
  u.gen = gen;
  u.mac = c.new_mac;
  changes.push_back(std::move(c));
}

void TokenStore::DeleteUser(const std::string& name) {
  std::lock_guard lock(mu_);
  Write([&](int64_t, std::vector<Change>& changes) {
    Change c{"user", name, 0, {}, {}};
    {
      sql::Stmt old(db_->raw(), "SELECT mac FROM users WHERE name = ?");
      old.Bind(1, name);
      if (!old.Step()) Fail(CKR_ARGUMENTS_BAD, "no user '" + name + "'");
      c.old_mac = old.Blob(0);
    }
    sql::Stmt(db_->raw(), "DELETE FROM users WHERE name = ?").Bind(1, name).Run();
    sql::Stmt(db_->raw(), "DELETE FROM login_failures WHERE name = ?").Bind(1, name).Run();
    sql::Stmt(db_->raw(), "DELETE FROM user_state WHERE name = ?").Bind(1, name).Run();
    sql::Stmt(db_->raw(), "DELETE FROM unseal WHERE user = ?").Bind(1, name).Run();  // it held that user's keys
    changes.push_back(std::move(c));
  });
}

int TokenStore::RecordLoginAttempt(const std::string& name) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt s(db_->raw(),
              "INSERT INTO login_failures (name, failures) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET failures = min(failures + 1, 1000000) "
              "RETURNING failures");
  s.Bind(1, name);
  int64_t after = s.Step() ? s.Int(0) : 1;
  s.Reset();
  tx.Commit();
  return static_cast<int>(after - 1);
}

void TokenStore::ClearLoginFailures(const std::string& name) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt(db_->raw(), "DELETE FROM login_failures WHERE name = ?").Bind(1, name).Run();
  tx.Commit();
}

std::optional<std::pair<std::string, Bytes>> TokenStore::UnsealWrap() {
  std::lock_guard lock(mu_);
  sql::Stmt s(db_->raw(), "SELECT user, wrap FROM unseal WHERE id = 1");
  if (!s.Step()) return std::nullopt;
  return std::make_pair(s.Text(0), s.Blob(1));
}

void TokenStore::PutUnsealWrap(const std::string& user, ByteView wrap) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt(db_->raw(), "INSERT INTO unseal (id, user, wrap) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET user = excluded.user, wrap = excluded.wrap")
      .Bind(1, user).Bind(2, wrap).Run();
  tx.Commit();
}

Bytes TokenStore::AdminPublic() {
  std::lock_guard lock(mu_);
  return MetaBytes(*db_, "admin_public").value_or(Bytes{});
}

void TokenStore::SetAdminPublic(ByteView pub) {
  std::lock_guard lock(mu_);
  if (state_key_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "the token's state key is not open");
  if (MetaBytes(*db_, "admin_public")) Fail(CKR_GENERAL_ERROR, "the token has an admin key already");
  sql::WriteTx tx(*db_);
  PutMeta(*db_, "admin_public", pub);
  PutMeta(*db_, "header_mac", HeaderMac(state_key_.view(), token_id_, *db_));
  tx.Commit();
}

// ---------------------------------------------------------------- objects

namespace {
struct NothingCommitted {};
}  // namespace

// One caller's rows waiting in the group-commit queue, and what became of them.
struct TokenStore::PendingInsert {
  std::vector<StoredObject>& rows;
  const Sealer& seal;
  const QuotaCheck& quota;
  std::vector<CK_OBJECT_HANDLE> handles;
  std::exception_ptr error;
  bool done = false;  // set under queue_mu_ by whichever thread committed it
};

std::vector<CK_OBJECT_HANDLE> TokenStore::Insert(std::vector<StoredObject> rows, const Sealer& seal, const QuotaCheck& quota) {
  PendingInsert me{rows, seal, quota, {}, nullptr};
  std::unique_lock queue(queue_mu_);
  queue_.push_back(&me);
  // One thread at a time commits everything queued so far; the others wait on the condition, not
  // on mu_, so each is woken when its own commit ends rather than after whichever commit next wins
  // mu_ (waiting on mu_, a done insert could sit behind a string of later leaders).
  while (!me.done) {
    if (committing_) {
      committed_.wait(queue);
      continue;
    }
    committing_ = true;
    std::vector<PendingInsert*> batch;
    batch.swap(queue_);
    queue.unlock();
    {
      std::lock_guard lock(mu_);
      CommitInserts(batch);
    }
    queue.lock();
    committing_ = false;
    for (PendingInsert* p : batch) p->done = true;
    committed_.notify_all();
  }
  if (me.error) std::rethrow_exception(me.error);
  return std::move(me.handles);
}

void TokenStore::CommitInserts(const std::vector<PendingInsert*>& batch) {
  try {
    Write([&](int64_t gen, std::vector<Change>& changes) {
      auto [keys, asym] = KeyCounts();
      // Handles are chosen here, as AUTOINCREMENT would (past every handle ever used; this
      // transaction holds the write lock), so each row is sealed first and written once.
      sql::Stmt& last = db_->Cached(
          "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'objects'), 0), coalesce((SELECT max(handle) FROM objects), 0))");
      if (!last.Step()) Fail(CKR_GENERAL_ERROR, "token store: no last handle");
      int64_t next = last.Int(0);
      last.Reset();
      for (PendingInsert* p : batch) {
        std::size_t changes_before = changes.size();
        int64_t keys_before = keys, asym_before = asym;
        db_->Cached("SAVEPOINT insert_one").Run();  // prepared once: one of these per create
        try {
          if (p->quota) p->quota(static_cast<std::size_t>(keys), static_cast<std::size_t>(asym));
          for (StoredObject& o : p->rows) {
            if (o.holder != writer_ || writer_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "log in to write the token's objects (each is signed by its holder)");
            o.gen = o.sgen = gen;
            if (o.handle == 0 || static_cast<int64_t>(o.handle) <= next) {
              o.handle = static_cast<CK_OBJECT_HANDLE>(++next);
            } else {
              next = static_cast<int64_t>(o.handle);  // a migration keeps the old handle
            }
            p->seal(o);
            o.mac = RowMac(o);
            sql::Stmt& s = db_->Cached(
                "INSERT INTO objects (handle, class, key_type, label, id, owner, shared, attrs, sealed, holder, sgen, wraps, sig, tsig, gen, mac) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
            s.Bind(1, static_cast<int64_t>(o.handle)).Bind(2, static_cast<int64_t>(o.cls)).Bind(3, static_cast<int64_t>(o.key_type));
            s.Bind(4, o.label).Bind(5, o.id).Bind(6, o.owner).Bind(7, JoinShared(o.shared_with)).Bind(8, o.attrs).Bind(9, o.sealed);
            s.Bind(10, o.holder).Bind(11, o.sgen).Bind(12, EncodeWraps(o.wraps)).Bind(13, o.sig).Bind(14, o.tsig);
            s.Bind(15, gen).Bind(16, o.mac).Run();
            Change c{"object", {}, o.handle, {}, o.mac};
            c.new_held = Contribution(writer_mac_.view(), o);
            changes.push_back(std::move(c));
            p->handles.push_back(o.handle);
            keys += IsKeyClass(o.cls) ? 1 : 0;
            asym += IsAsymmetricClass(o.cls) ? 1 : 0;
          }
          db_->Cached("RELEASE insert_one").Run();
        } catch (...) {
          // This caller's rows are undone; the others in the batch go on.
          db_->Exec("ROLLBACK TO insert_one");
          db_->Exec("RELEASE insert_one");
          changes.resize(changes_before);
          keys = keys_before;
          asym = asym_before;
          p->handles.clear();
          p->error = std::current_exception();
        }
      }
      // When every caller was refused, roll back rather than commit a generation that changed nothing.
      if (std::all_of(batch.begin(), batch.end(), [](PendingInsert* p) { return p->error != nullptr; })) throw NothingCommitted();
      PutKeyCounts(keys, asym);
    });
  } catch (const NothingCommitted&) {
  } catch (...) {
    for (PendingInsert* p : batch) {
      if (!p->error) p->error = std::current_exception();
      p->handles.clear();
    }
  }
}

void TokenStore::Update(StoredObject o, const Sealer& seal) {
  std::lock_guard lock(mu_);
  Write([&](int64_t gen, std::vector<Change>& changes) {
    Change c{"object", {}, o.handle, {}, {}};
    StoredObject before;
    {
      sql::Stmt old(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects WHERE handle = ?").c_str());
      old.Bind(1, static_cast<int64_t>(o.handle));
      if (!old.Step()) Fail(CKR_OBJECT_HANDLE_INVALID, "the object was deleted meanwhile");
      before = RowToObject(old);
      c.old_mac = before.mac;
    }
    if (o.holder != before.holder) Fail(CKR_GENERAL_ERROR, "token store: an update changes the row's holder");
    o.gen = gen;
    if (seal) {
      if (o.holder != writer_ || writer_.empty()) Fail(CKR_ACTION_PROHIBITED, "only '" + o.holder + "', who holds the object, may change it");
      c.old_held = Contribution(writer_mac_.view(), before);
      o.sgen = gen;
      seal(o);
      c.new_held = Contribution(writer_mac_.view(), o);
    } else if (o.sig != before.sig || o.sgen != before.sgen || o.sealed != before.sealed) {
      Fail(CKR_GENERAL_ERROR, "token store: a change by someone else rewrites the holder's signature");
    }
    o.mac = c.new_mac = RowMac(o);
    sql::Stmt s(db_->raw(),
                "UPDATE objects SET label=?, id=?, owner=?, shared=?, attrs=?, sealed=?, sgen=?, wraps=?, sig=?, tsig=?, gen=?, mac=? WHERE handle=?");
    s.Bind(1, o.label).Bind(2, o.id).Bind(3, o.owner).Bind(4, JoinShared(o.shared_with)).Bind(5, o.attrs).Bind(6, o.sealed);
    s.Bind(7, o.sgen).Bind(8, EncodeWraps(o.wraps)).Bind(9, o.sig).Bind(10, o.tsig);
    s.Bind(11, gen).Bind(12, o.mac).Bind(13, static_cast<int64_t>(o.handle)).Run();
    changes.push_back(std::move(c));
  });
}

void TokenStore::Delete(CK_OBJECT_HANDLE h) {
  std::lock_guard lock(mu_);
  Write([&](int64_t, std::vector<Change>& changes) {
    Change c{"object", {}, h, {}, {}};
    CK_OBJECT_CLASS cls;
    {
      sql::Stmt old(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects WHERE handle = ?").c_str());
      old.Bind(1, static_cast<int64_t>(h));
      if (!old.Step()) Fail(CKR_OBJECT_HANDLE_INVALID, "no object with handle " + std::to_string(h));
      StoredObject before = RowToObject(old);
      if (before.holder != writer_ || writer_.empty()) Fail(CKR_ACTION_PROHIBITED, "only '" + before.holder + "', who holds the object, may delete it");
      c.old_mac = before.mac;
      c.old_held = Contribution(writer_mac_.view(), before);
      cls = before.cls;
    }
    sql::Stmt(db_->raw(), "DELETE FROM objects WHERE handle = ?").Bind(1, static_cast<int64_t>(h)).Run();
    auto [keys, asym] = KeyCounts();
    PutKeyCounts(keys - (IsKeyClass(cls) ? 1 : 0), asym - (IsAsymmetricClass(cls) ? 1 : 0));
    changes.push_back(std::move(c));
  });
}

std::optional<StoredObject> TokenStore::Load(CK_OBJECT_HANDLE h) {
  std::lock_guard lock(mu_);
  ThrowIfPoisoned();
  sql::Stmt s(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects WHERE handle = ?").c_str());
  s.Bind(1, static_cast<int64_t>(h));
  if (!s.Step()) return std::nullopt;
  StoredObject o = RowToObject(s);
  // Nobody logged in (a PKCS#11 public session): the row is given unchecked by the token layer;
  // its holder's signature, which needs no key to check, is what vouches for it (Token::LoadStored),
  // and no material opens without a user's keys.
  if (state_key_.empty()) return o;
  if (!RowMacOk(o)) {
    damaged_objects_.insert(o.handle);
    Tampered(DescribeObject(o) + ": its row was modified, swapped or belongs to another token");
  }
  return o;
}

std::vector<StoredObject> TokenStore::Find(const FindQuery& q) {
  std::lock_guard lock(mu_);
  ThrowIfPoisoned();
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
  while (s.Step()) {
    StoredObject o = RowToObject(s);
    if (!state_key_.empty() && !RowMacOk(o)) {
      o.damaged = true;
      damaged_objects_.insert(o.handle);
    }
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<CK_OBJECT_HANDLE> TokenStore::Damaged() {
  std::lock_guard lock(mu_);
  ThrowIfPoisoned();
  // Rows deleted since (by an honest Delete, or a restored good copy) are reported no more.
  std::vector<CK_OBJECT_HANDLE> out;
  sql::Stmt s(db_->raw(), "SELECT 1 FROM objects WHERE handle = ?");
  for (auto it = damaged_objects_.begin(); it != damaged_objects_.end();) {
    s.Reset();
    s.Bind(1, static_cast<int64_t>(*it));
    if (s.Step()) {
      out.push_back(*it++);
    } else {
      it = damaged_objects_.erase(it);
    }
  }
  return out;
}

std::pair<std::size_t, std::size_t> TokenStore::CountKeys() {
  std::lock_guard lock(mu_);
  auto [keys, asym] = KeyCounts();
  return {static_cast<std::size_t>(keys), static_cast<std::size_t>(asym)};
}

// The key counts the quotas need, kept in `meta` and moved by every insert and delete in the same
// transaction, so a quota check costs the same at 100,000 keys as at none (counting rows did not).
// Counted once when missing. Not signed: they bound resources, they protect no key.
std::pair<int64_t, int64_t> TokenStore::KeyCounts() {
  if (auto v = MetaBytes(*db_, "key_counts")) {
    std::string text(v->begin(), v->end());
    long long keys = 0, asym = 0;
    if (std::sscanf(text.c_str(), "%lld %lld", &keys, &asym) == 2 && keys >= 0 && asym >= 0) return {keys, asym};
  }
  sql::Stmt s(db_->raw(), "SELECT count(*), coalesce(sum(class IN (2, 3)), 0) FROM objects WHERE class IN (2, 3, 4)");
  s.Step();
  return {s.Int(0), s.Int(1)};
}

void TokenStore::PutKeyCounts(int64_t keys, int64_t asym) {
  PutMetaText(*db_, "key_counts", std::to_string(std::max<int64_t>(keys, 0)) + " " + std::to_string(std::max<int64_t>(asym, 0)));
}

void TokenStore::Reinitialize(const std::string& keep, const std::string& label, const SecureBytes& keep_mac_key) {
  std::lock_guard lock(mu_);
  Write([&](int64_t gen, std::vector<Change>& changes) {
    {
      sql::Stmt s(db_->raw(), "SELECT handle, mac FROM objects");
      while (s.Step()) changes.push_back(Change{"object", {}, static_cast<CK_OBJECT_HANDLE>(s.Int(0)), s.Blob(1), {}});
    }
    {
      sql::Stmt s(db_->raw(), "SELECT name, mac FROM users WHERE name != ?");
      s.Bind(1, keep);
      while (s.Step()) changes.push_back(Change{"user", s.Text(0), 0, s.Blob(1), {}});
    }
    sql::Stmt(db_->raw(), "DELETE FROM objects").Run();
    PutKeyCounts(0, 0);
    sql::Stmt(db_->raw(), "DELETE FROM users WHERE name != ?").Bind(1, keep).Run();
    sql::Stmt(db_->raw(), "DELETE FROM login_failures WHERE name != ?").Bind(1, keep).Run();
    sql::Stmt(db_->raw(), "DELETE FROM user_state").Run();
    sql::Stmt(db_->raw(), "DELETE FROM unseal").Run();  // it held a user's keys; the service's next login makes it again
    statemac::Manifest empty;
    empty.gen = gen;
    PutUserState(keep, keep_mac_key.view(), empty);
    PutMetaText(*db_, "label", label);
    PutMeta(*db_, "header_mac", HeaderMac(state_key_.view(), token_id_, *db_));
  });
  label_ = label;
}

void TokenStore::ReserveHandles(int64_t upto) {
  std::lock_guard lock(mu_);
  sql::WriteTx tx(*db_);
  sql::Stmt(db_->raw(), "DELETE FROM sqlite_sequence WHERE name = 'objects'").Run();
  sql::Stmt(db_->raw(), "INSERT INTO sqlite_sequence (name, seq) VALUES ('objects', ?)").Bind(1, upto).Run();
  tx.Commit();
}

void TokenStore::SetLabel(const std::string& label) {
  std::lock_guard lock(mu_);
  if (state_key_.empty()) Fail(CKR_USER_NOT_LOGGED_IN, "the token's state key is not open");
  sql::WriteTx tx(*db_);
  PutMetaText(*db_, "label", label);
  PutMeta(*db_, "header_mac", HeaderMac(state_key_.view(), token_id_, *db_));
  tx.Commit();
  label_ = label;
}

void TokenStore::Backup(const std::string& dest_dir) {
  if (Exists(dest_dir + "/token.db")) Fail(CKR_ARGUMENTS_BAD, dest_dir + " already holds a token");
  if (!IsDir(dest_dir) && mkdir(dest_dir.c_str(), 0700) != 0) Fail(CKR_DEVICE_ERROR, "cannot create " + dest_dir);
  sql::Db dest(dest_dir + "/token.db", true, true);
  std::lock_guard lock(mu_);
  sqlite3_backup* b = sqlite3_backup_init(dest.raw(), "main", db_->raw(), "main");
  if (b == nullptr) sql::Raise(dest.raw(), "backup");
  int rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) sql::Raise(dest.raw(), "backup");
}

}  // namespace hsm
