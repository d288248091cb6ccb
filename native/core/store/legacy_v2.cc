// native/core/store/legacy_v2.cc
#include "legacy_v2.h"

#include <openssl/crypto.h>

#include "generation_mark.h"
#include "rows.h"
#include "seal.h"
#include "sqlite.h"
#include "state_mac.h"

namespace hsm::legacy {

namespace {

[[noreturn]] void Tampered(const std::string& what) {
  Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + what + "; the token is not migrated");
}

std::string MetaText(sql::Db& db, const char* key) {
  sql::Stmt s(db.raw(), "SELECT value FROM meta WHERE key = ?");
  s.Bind(1, std::string(key));
  if (!s.Step()) return {};
  Bytes b = s.Blob(0);
  return std::string(b.begin(), b.end());
}

Bytes MetaBytes(sql::Db& db, const char* key) {
  std::string t = MetaText(db, key);
  return Bytes(t.begin(), t.end());
}

struct V2User {
  std::string name, role;
  PasswordVerifier verifier;
  Bytes wrap, mac;
  int64_t gen = 0;
};

bool MacOk(const statemac::Message& m, ByteView key, const Bytes& mac) { return m.Verify(key, mac); }

}  // namespace

LegacyToken Read(const std::string& dir, const std::map<std::string, SecureBytes>& passwords) {
  sql::Db db(dir + "/token.db", false, true);
  if (MetaText(db, "magic") != "sealhsm-token" || MetaText(db, "format") != "2") Fail(CKR_TOKEN_NOT_RECOGNIZED, dir + " is not a token of format 2");
  LegacyToken out;
  out.profile = MetaText(db, "profile");
  out.label = MetaText(db, "label");
  std::string max = MetaText(db, "max_failed_logins");
  out.max_failed_logins = max.empty() || max.size() > 6 ? -1 : std::atoi(max.c_str());
  Bytes token_id = MetaBytes(db, "token_id");

  std::vector<V2User> users;
  {
    sql::Stmt s(db.raw(), "SELECT name, role, salt, n, r, p, verifier, master_wrap, gen, mac FROM users ORDER BY role = 'admin' DESC, name");
    while (s.Step()) {
      V2User u;
      u.name = s.Text(0);
      u.role = s.Text(1);
      u.verifier = {s.Blob(2), static_cast<uint64_t>(s.Int(3)), static_cast<uint32_t>(s.Int(4)), static_cast<uint32_t>(s.Int(5)), s.Blob(6)};
      u.wrap = s.Blob(7);
      u.gen = s.Int(8);
      u.mac = s.Blob(9);
      users.push_back(std::move(u));
    }
  }
  std::string missing;
  for (const V2User& u : users) {
    if (passwords.count(u.name) == 0) missing += (missing.empty() ? "" : ", ") + u.name;
  }
  if (!missing.empty()) Fail(CKR_ARGUMENTS_BAD, "the migration needs the password of every user of the token; missing: " + missing);

  // Each password, proven twice as format 2 did: the verifier, then the user's wrap of the master key.
  SecureBytes master;
  for (const V2User& u : users) {
    SecureBytes kek;
    if (!CheckVerifier(u.verifier, passwords.at(u.name).view(), &kek)) Fail(CKR_PIN_INCORRECT, "wrong password for '" + u.name + "'");
    statemac::Message aad("sealhsm user wrap v2");
    aad.Add(token_id).Add(out.profile).Add(u.name).Add(u.role);
    SecureBytes opened = seal::Open(kek.view(), aad.bytes(), u.wrap, "user '" + u.name + "'");
    if (master.empty()) {
      master = std::move(opened);
    } else if (opened.size() != master.size() || CRYPTO_memcmp(opened.data(), master.data(), master.size()) != 0) {
      Tampered("user '" + u.name + "': its wrap holds another token's master key");
    }
    if (u.role != "admin" && u.role != "crypto-user") Tampered("user '" + u.name + "': its role");
    out.users.emplace_back(u.name, u.role == "admin" ? Role::kAdmin : Role::kCryptoUser);
  }
  if (master.empty()) Fail(CKR_USER_PIN_NOT_INITIALIZED, dir + " was never activated: there is nothing to migrate; make a new token");
  SecureBytes state = statemac::DeriveKey(master.view());

  statemac::Message header("sealhsm header v2");
  header.Add(token_id);
  for (const char* k : {"magic", "format", "profile", "label", "max_failed_logins"}) header.Add(std::string(k)).Add(MetaText(db, k));
  if (!MacOk(header, state.view(), MetaBytes(db, "header_mac"))) Tampered("the token header");
  statemac::Manifest manifest = statemac::Manifest::Decode(state.view(), token_id, MetaBytes(db, "manifest"));
  GenerationMark mark(dir + "/generation", "");
  if (manifest.gen < mark.Highest(state.view(), token_id)) {
    Tampered("the token: it is older than the generation it acknowledged (restore its latest copy first)");
  }

  statemac::Manifest found;
  for (const V2User& u : users) {
    statemac::Message m("sealhsm user row v2");
    m.Add(token_id).Add(u.name).Add(u.role).Add(u.verifier.salt).Add(u.verifier.n);
    m.Add(static_cast<uint64_t>(u.verifier.r)).Add(static_cast<uint64_t>(u.verifier.p)).Add(u.verifier.hash).Add(u.wrap);
    m.Add(static_cast<uint64_t>(u.gen));
    if (!MacOk(m, state.view(), u.mac)) Tampered("user '" + u.name + "': its record was edited");
    statemac::XorInto(found.digest, u.mac);
    found.rows++;
  }
  sql::Stmt s(db.raw(), "SELECT handle, class, key_type, label, id, owner, shared, attrs, sealed, gen, mac FROM objects ORDER BY handle");
  while (s.Step()) {
    LegacyObject o;
    o.handle = static_cast<CK_OBJECT_HANDLE>(s.Int(0));
    o.cls = static_cast<CK_OBJECT_CLASS>(s.Int(1));
    o.key_type = static_cast<CK_KEY_TYPE>(s.Int(2));
    Bytes label = s.Blob(3), id = s.Blob(4);
    o.owner = s.Text(5);
    std::string shared = s.Text(6);
    o.shared_with = rows::SplitShared(shared);
    o.attrs = s.Blob(7);
    Bytes sealed = s.Blob(8), mac = s.Blob(10);
    int64_t gen = s.Int(9);
    statemac::Message aad("sealhsm object v2");
    aad.Add(token_id).Add(static_cast<uint64_t>(o.handle)).Add(static_cast<uint64_t>(o.cls)).Add(static_cast<uint64_t>(o.key_type));
    aad.Add(label).Add(id).Add(o.owner).Add(rows::JoinShared(o.shared_with)).Add(o.attrs).Add(static_cast<uint64_t>(gen));
    statemac::Message row("sealhsm object row v2");
    row.Add(aad.bytes()).Add(sealed);
    char what[48];
    snprintf(what, sizeof what, "object 0x%lx", static_cast<unsigned long>(o.handle));
    if (!MacOk(row, state.view(), mac)) Tampered(std::string(what) + ": its row was modified");
    o.material = seal::Open(master.view(), aad.bytes(), sealed, what);
    if (o.cls != CKO_SECRET_KEY && o.cls != CKO_PRIVATE_KEY) o.material = SecureBytes();
    statemac::XorInto(found.digest, mac);
    found.rows++;
    out.next_handle = std::max<int64_t>(out.next_handle, static_cast<int64_t>(o.handle));
    out.objects.push_back(std::move(o));
  }
  if (found.rows != manifest.rows || CRYPTO_memcmp(found.digest.data(), manifest.digest.data(), statemac::kMacBytes) != 0) {
    Tampered("the token: its rows do not match its manifest");
  }
  sql::Stmt seq(db.raw(), "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'objects'), 0)");
  if (seq.Step()) out.next_handle = std::max(out.next_handle, seq.Int(0));
  return out;
}

}  // namespace hsm::legacy
