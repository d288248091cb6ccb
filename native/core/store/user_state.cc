// native/core/store/user_state.cc
//
// The user layer of the token state (token_store.h): each user's manifest — the generation of its
// last write, how many rows it holds and the XOR of each one's contribution, an HMAC under a key
// derived from the user's UK — and each user's generation mark (generation.<user> beside token.db,
// and beside the mirror). Another user with token.db can neither forge a contribution nor the
// manifest, so a row of this user's deleted, inserted or put back from an older copy fails here.
#include <openssl/crypto.h>

#include <algorithm>

#include "operator_log.h"
#include "rows.h"

namespace hsm {

using namespace rows;  // NOLINT: the row helpers token_store.cc shares

Bytes TokenStore::UserScope(const std::string& name) const {
  Bytes scope = token_id_;
  statemac::Message m("sealhsm user scope v3");
  m.Add(name);
  Append(scope, m.bytes());
  return scope;
}

Bytes TokenStore::Contribution(ByteView mac_key, const StoredObject& o) const {
  // The holder's signature covers the row's content and the generation it signed at.
  statemac::Message m("sealhsm held row v3");
  m.Add(token_id_).Add(static_cast<uint64_t>(o.handle)).Add(o.sig);
  return m.Sign(mac_key);
}

statemac::Manifest TokenStore::ComputeUserState(const std::string& name, ByteView mac_key) {
  statemac::Manifest found;
  sql::Stmt s(db_->raw(), "SELECT handle, sig FROM objects WHERE holder = ?");
  s.Bind(1, name);
  StoredObject row;
  while (s.Step()) {
    row.handle = static_cast<CK_OBJECT_HANDLE>(s.Int(0));
    row.sig = s.Blob(1);
    statemac::XorInto(found.digest, Contribution(mac_key, row));
    found.rows++;
  }
  return found;
}

std::optional<statemac::Manifest> TokenStore::ReadUserState(const std::string& name, ByteView mac_key) {
  sql::Stmt s(db_->raw(), "SELECT manifest FROM user_state WHERE name = ?");
  s.Bind(1, name);
  if (!s.Step()) return std::nullopt;
  try {
    return statemac::Manifest::Decode(mac_key, UserScope(name), s.Blob(0));
  } catch (const Error&) {
    Tampered("the manifest of user '" + name + "': it was edited or is another user's (or the user's password was changed or reset meanwhile: log in again)");
  }
}

void TokenStore::PutUserState(const std::string& name, ByteView mac_key, const statemac::Manifest& m) {
  db_->Cached("INSERT INTO user_state (name, manifest) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET manifest = excluded.manifest")
      .Bind(1, name).Bind(2, m.Encode(mac_key, UserScope(name))).Run();
}

GenerationMark& TokenStore::UserMark(const std::string& name) {
  auto it = user_marks_.find(name);
  if (it == user_marks_.end()) {
    std::string mirror = mirror_.empty() ? std::string() : mirror_ + "." + name;
    it = user_marks_.emplace(name, std::make_unique<GenerationMark>(dir_ + "/generation." + name, mirror)).first;
  }
  return *it->second;
}

std::optional<statemac::Manifest> TokenStore::ApplyToWriterState(int64_t gen, const std::vector<Change>& changes) {
  bool any = std::any_of(changes.begin(), changes.end(), [](const Change& c) { return !c.old_held.empty() || !c.new_held.empty(); });
  if (!any) return std::nullopt;
  std::optional<statemac::Manifest> m = ReadUserState(writer_, writer_mac_.view());
  if (!m) Tampered("the manifest of user '" + writer_ + "': it is missing");
  for (const Change& c : changes) {
    if (!c.old_held.empty()) statemac::XorInto(m->digest, c.old_held), m->rows--;
    if (!c.new_held.empty()) statemac::XorInto(m->digest, c.new_held), m->rows++;
  }
  m->gen = gen;
  PutUserState(writer_, writer_mac_.view(), *m);
  return m;
}

void TokenStore::SetWriter(const std::string& name, const SecureBytes* mac_key) {
  std::lock_guard lock(mu_);
  writer_ = mac_key == nullptr ? std::string() : name;
  writer_mac_ = mac_key == nullptr ? SecureBytes() : mac_key->CloneSecret();
  writer_known_.reset();  // counted in full at the next poll that sees objects change
}

void TokenStore::VerifyUserState(const std::string& name, const SecureBytes& mac_key, const std::string* accept_rollback_by) {
  std::lock_guard lock(mu_);
  ThrowIfPoisoned();
  std::string who = "user '" + name + "'";
  // The mark first, as at Unlock: every generation it holds is in any snapshot read after it.
  int64_t acknowledged = UserMark(name).Highest(mac_key.view(), UserScope(name));
  sql::ReadTx snapshot(*db_);
  std::optional<statemac::Manifest> m = ReadUserState(name, mac_key.view());
  if (!m) Tampered("the manifest of " + who + ": it is missing (deleted from token.db)");
  statemac::Manifest found = ComputeUserState(name, mac_key.view());
  if (found.rows != m->rows || CRYPTO_memcmp(found.digest.data(), m->digest.data(), statemac::kMacBytes) != 0) {
    Tampered("the objects of " + who + " (" + std::to_string(found.rows) + " rows, " + std::to_string(m->rows) +
             " expected): one of its rows was deleted, inserted or restored from an older copy");
  }
  if (m->gen < acknowledged) {
    std::string what = "the objects of " + who + ": their generation is " + std::to_string(m->gen) + " but " + std::to_string(acknowledged) +
                       " was acknowledged (token.db was restored from an older copy)";
    if (accept_rollback_by == nullptr) Tampered(what + "; " + name + " accepts that older state with `sealhsm token accept-rollback --username " + name + "`");
    AppendOperatorLog(dir_, *accept_rollback_by + " accepted generation " + std::to_string(m->gen) + " of " + who + "'s objects where " +
                                std::to_string(acknowledged) + " had been acknowledged");
    UserMark(name).Reset(mac_key.view(), UserScope(name), m->gen);
  } else {
    UserMark(name).Advance(mac_key.view(), UserScope(name), m->gen);
  }
}

void TokenStore::CheckWriterState(int64_t acknowledged, const std::optional<statemac::Manifest>& followed) {
  if (writer_.empty()) return;
  std::optional<statemac::Manifest> m = ReadUserState(writer_, writer_mac_.view());
  if (!m) Tampered("the manifest of user '" + writer_ + "': it is missing (deleted from token.db)");
  statemac::Manifest found = followed ? *followed : ComputeUserState(writer_, writer_mac_.view());
  if (found.rows != m->rows || CRYPTO_memcmp(found.digest.data(), m->digest.data(), statemac::kMacBytes) != 0) {
    Tampered("the objects of user '" + writer_ + "': one of its rows was deleted, inserted or restored from an older copy");
  }
  if (m->gen < acknowledged) {
    Poison("the objects of user '" + writer_ + "': their generation went back (token.db was restored from an older copy)");
  }
  writer_known_ = m;
}

std::size_t TokenStore::HeldRows(const std::string& name) {
  std::lock_guard lock(mu_);
  sql::Stmt s(db_->raw(), "SELECT count(*) FROM objects WHERE holder = ?");
  s.Bind(1, name);
  return s.Step() ? static_cast<std::size_t>(s.Int(0)) : 0;
}

void TokenStore::DropShares(const std::string& name) {
  std::lock_guard lock(mu_);
  Write([&](int64_t gen, std::vector<Change>& changes) {
    std::vector<StoredObject> touched;
    {
      sql::Stmt s(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects").c_str());
      while (s.Step()) {
        StoredObject o = RowToObject(s);
        if (o.shared_with.count(name) != 0 || o.wraps.count(name) != 0) touched.push_back(std::move(o));
      }
    }
    for (StoredObject& o : touched) DropShareOf(o, name, gen, changes);
  });
}

void TokenStore::DropShareOf(StoredObject& o, const std::string& name, int64_t gen, std::vector<Change>& changes) {
  // Checked before it is MACed again: a row edited on disk must not come out of this with a good MAC.
  if (!RowMacOk(o)) Tampered(DescribeObject(o) + ": its row was modified, swapped or belongs to another token");
  Change c{"object", {}, o.handle, o.mac, {}};
  o.shared_with.erase(name);
  if (o.holder != name) o.wraps.erase(name);
  o.gen = gen;
  o.mac = c.new_mac = RowMac(o);
  sql::Stmt(db_->raw(), "UPDATE objects SET shared=?, wraps=?, gen=?, mac=? WHERE handle=?")
      .Bind(1, JoinShared(o.shared_with)).Bind(2, EncodeWraps(o.wraps)).Bind(3, gen).Bind(4, o.mac).Bind(5, static_cast<int64_t>(o.handle)).Run();
  changes.push_back(std::move(c));
}

void TokenStore::ResetUser(User& u, const SecureBytes& mac_key) {
  std::lock_guard lock(mu_);
  Write([&](int64_t gen, std::vector<Change>& changes) {
    std::vector<StoredObject> all;
    {
      sql::Stmt s(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects").c_str());
      while (s.Step()) all.push_back(RowToObject(s));
    }
    int64_t gone_keys = 0, gone_asym = 0;
    for (StoredObject& o : all) {
      if (o.holder == u.name) {
        changes.push_back(Change{"object", {}, o.handle, o.mac, {}});
        sql::Stmt(db_->raw(), "DELETE FROM objects WHERE handle = ?").Bind(1, static_cast<int64_t>(o.handle)).Run();
        gone_keys += IsKeyClass(o.cls) ? 1 : 0;
        gone_asym += IsAsymmetricClass(o.cls) ? 1 : 0;
      } else if (o.shared_with.count(u.name) != 0 || o.wraps.count(u.name) != 0) {
        // Shares to the user's old sharing key open no more: they go, and the owner shares again.
        DropShareOf(o, u.name, gen, changes);
      }
    }
    if (gone_keys != 0) {
      auto [keys, asym] = KeyCounts();
      PutKeyCounts(keys - gone_keys, asym - gone_asym);
    }
    statemac::Manifest empty;
    empty.gen = gen;
    PutUserState(u.name, mac_key.view(), empty);
    sql::Stmt(db_->raw(), "DELETE FROM unseal WHERE user = ?").Bind(1, u.name).Run();  // it held the old UK
    WriteUserRow(u, gen, changes);
  });
  UserMark(u.name).Reset(mac_key.view(), UserScope(u.name), 0);
}

void TokenStore::RekeyUser(User& u, const SecureBytes& mac_key, const std::function<void(StoredObject&)>& rewrap) {
  std::lock_guard lock(mu_);
  if (u.name != writer_) Fail(CKR_GENERAL_ERROR, "token store: a user key is replaced by its own user only");
  int64_t written = 0;
  Write([&](int64_t gen, std::vector<Change>& changes) {
    std::vector<StoredObject> held;
    {
      sql::Stmt s(db_->raw(), (std::string("SELECT ") + kObjectColumns + " FROM objects WHERE holder = ?").c_str());
      s.Bind(1, u.name);
      while (s.Step()) held.push_back(RowToObject(s));
    }
    statemac::Manifest next;
    for (StoredObject& o : held) {
      if (!RowMacOk(o)) Tampered(DescribeObject(o) + ": its row was modified, swapped or belongs to another token");
      Change c{"object", {}, o.handle, o.mac, {}};
      rewrap(o);  // the holder's own wrap, under the new seal key; the signature stays
      o.gen = gen;
      o.mac = c.new_mac = RowMac(o);
      sql::Stmt(db_->raw(), "UPDATE objects SET wraps=?, gen=?, mac=? WHERE handle=?")
          .Bind(1, EncodeWraps(o.wraps)).Bind(2, gen).Bind(3, o.mac).Bind(4, static_cast<int64_t>(o.handle)).Run();
      statemac::XorInto(next.digest, Contribution(mac_key.view(), o));
      next.rows++;
      changes.push_back(std::move(c));
    }
    next.gen = gen;
    PutUserState(u.name, mac_key.view(), next);
    WriteUserRow(u, gen, changes);
    written = gen;
  });
  writer_mac_ = mac_key.CloneSecret();
  writer_known_.reset();
  UserMark(u.name).Reset(writer_mac_.view(), UserScope(u.name), written);
}

}  // namespace hsm
