// native/core/store/token_store.h
//
// A token directory (DESIGN "Storage"): one SQLite database, token.db, in WAL mode; every change one
// transaction, so a crash never leaves half a key and several processes share the token. Rows hold
// only sealed key material and non-sensitive attributes; the indexed columns (class, key type,
// label, id, owner) make finding one key among 100,000 a lookup.
//
// Two layers authenticate the state (token format 3, docs/design/per-user-sealing.md):
// - The token layer (store/state_mac.h), against someone with only the disk: each write transaction
//   raises the token's generation, MACs the rows it writes under the state key every user holds,
//   and updates the token manifest; a change log lets other processes reload only what changed.
// - The user layer, against another user with the disk: each object row is held by one user, whose
//   Ed25519 signature (made by Token) covers it and whose own manifest — MACed under a key only that
//   user's password opens, with a generation mark of its own — covers the set of that user's rows.
// Failed-login counts are the one thing written without a key open (a wrong password opens
// nothing), so they are not signed; README says what that means. Knows nothing of sessions or N-API.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../users.h"
#include "generation_mark.h"
#include "sqlite.h"
#include "state_mac.h"

namespace hsm {

struct StoredObject {
  CK_OBJECT_HANDLE handle = 0;
  CK_OBJECT_CLASS cls = 0;
  CK_KEY_TYPE key_type = 0;
  Bytes label, id;
  std::string owner;
  std::set<std::string> shared_with;
  Bytes attrs;   // every readable attribute, encoded (EncodeTemplate)
  Bytes sealed;  // AES-256-GCM(the object's data key, key material), or empty: no key material
  std::string holder;  // the user who wrote the row and signs it; its manifest covers the row
  int64_t sgen = 0;    // the generation at which the holder signed it
  std::map<std::string, Bytes> wraps;  // the data key, for each user who may open it (Token's format)
  Bytes sig;   // the holder's Ed25519 signature (Token's RowMessage: neither shares nor CKA_TRUSTED)
  Bytes tsig;  // an admin's endorsement of CKA_TRUSTED, or empty
  int64_t gen = 0;  // the token generation that last wrote the row (bound into its MAC)
  Bytes mac;        // HMAC(state key, every column): the row's part of the token manifest
  bool damaged = false;  // Find: the row fails its MAC (its columns cannot be trusted)
};

struct FindQuery {
  std::optional<CK_OBJECT_CLASS> cls;
  std::optional<CK_KEY_TYPE> key_type;
  std::optional<Bytes> label, id;
};

// What other processes changed since the last Poll.
struct StoreChanges {
  bool all = false;    // forget every cached token object and reload the users
  bool users = false;  // reload the users
  std::vector<CK_OBJECT_HANDLE> objects;
};

struct StoreOptions {
  bool create = false;
  std::string profile, label;
  bool full_sync = true;        // synchronous=FULL: an acknowledged write survives power loss
  int max_failed_logins = -1;   // stored in the header when creating; -1 = the profile's
  std::string generation_mirror;  // a second generation mark (another mount), or empty
};

class TokenStore {
 public:
  static constexpr int64_t kFormat = 3;

  // Opens an existing token directory, or makes one when `create` (the directory may exist but must
  // not hold a token). Refuses a directory that is not a sealhsm token, or one of another format.
  static std::unique_ptr<TokenStore> Open(const std::string& dir, const StoreOptions& options);

  const std::string& profile() const { return profile_; }
  const std::string& label() const { return label_; }
  ByteView token_id() const { return token_id_; }
  const std::string& dir() const { return dir_; }
  int max_failed_logins() const { return max_failed_logins_; }

  // The state key's MAC key, from the state key every user's wrap holds. On a token with state it verifies the header, the manifest
  // and every row's MAC against the manifest (rows deleted, inserted or restored from an older copy
  // fail it) and the manifest's generation against the highest one acknowledged (generation_mark.h),
  // and returns the users whose rows fail their MAC; on a fresh token it writes the first manifest.
  // CKR_SEALHSM_INTEGRITY_FAILURE when the token as a whole does not verify, or is older than what
  // was acknowledged — unless `accept_rollback_by` names the admin who accepts that older state
  // (the act is appended to operator.log beside token.db, then the mark is set back to it).
  std::set<std::string> Unlock(ByteView master, const std::string* accept_rollback_by = nullptr);
  void Lock();  // forgets the state key (logout without an unseal key)
  bool Unlocked() const { return !state_key_.empty(); }
  bool HasState();  // activated: the token has a manifest

  // What other processes changed since the last call; with the state key open, checked against the
  // manifest. A generation that goes back is a rollback: CKR_SEALHSM_INTEGRITY_FAILURE naming both
  // generations, then and at every later call on this store (it fails closed, for good).
  StoreChanges Poll();

  std::vector<User> Users();  // as stored; failures from the login counts
  // Sets u.gen and u.mac to what was written. `fresh`: a user made (or reset) here, whose empty
  // manifest is written under the MAC key given, in the same transaction.
  void PutUser(User& u, const SecureBytes* fresh_mac_key = nullptr);
  void DeleteUser(const std::string& name);
  bool VerifyUser(const User& u);  // the row's MAC (state key open)
  // Counts a login attempt before its verdict, atomically across processes; returns the count of
  // failures before it. ClearLoginFailures resets it after a success or a password change.
  int RecordLoginAttempt(const std::string& name);
  void ClearLoginFailures(const std::string& name);
  // The file whose lock (FileLock) orders password checks across every process using the token.
  std::string LoginLockPath() const { return dir_ + "/login.lock"; }
  // The unseal key's record: the user whose keys it opens, and its wrap of them.
  std::optional<std::pair<std::string, Bytes>> UnsealWrap();
  void PutUnsealWrap(const std::string& user, ByteView wrap);
  // The token's admin public key (it certifies every user's public keys); empty before activation.
  Bytes AdminPublic();
  void SetAdminPublic(ByteView pub);  // once, in the activating admin's first write

  // The user layer. SetWriter names the user whose rows this store writes from now on (its name and
  // manifest MAC key; nullptr: nobody, and object writes fail). VerifyUser checks that user's
  // manifest against the rows it holds and its generation mark (as Unlock does for the token;
  // `accept_rollback_by` likewise), and is repeated by Poll when objects changed.
  void SetWriter(const std::string& name, const SecureBytes* mac_key);
  void VerifyUserState(const std::string& name, const SecureBytes& mac_key, const std::string* accept_rollback_by = nullptr);
  std::size_t HeldRows(const std::string& name);  // how many rows the user holds
  // One transaction: the user's rows go, shares to it are dropped, its new record and its empty
  // manifest (under `mac_key`) are written. An admin resetting a password without the old one.
  void ResetUser(User& u, const SecureBytes& mac_key);
  // A user's new UK (its own password change): each row it holds is rewritten by `rewrap` (its
  // own wraps), its record is written, and its manifest and mark move to `mac_key`; one transaction.
  void RekeyUser(User& u, const SecureBytes& mac_key, const std::function<void(StoredObject&)>& rewrap);
  // Removes a user from every row's shares (a deleted user), keeping each holder's signature.
  void DropShares(const std::string& name);

  // Inserts rows in one transaction: `quota(keys, asymmetric)` sees the stored counts inside it and
  // throws to refuse; `seal(row)` makes each sealed blob once its handle and generation are known.
  // Inserts from several threads at once share one transaction (group commit: one fsync for all of
  // them), each in its own savepoint so a refusal undoes only its rows; each call returns after the
  // commit that holds its rows, so an acknowledged create is as durable as ever.
  // The sealer fills in `sealed`, `wraps`, `sig` and `tsig` once handle and generations are known.
  using Sealer = std::function<void(StoredObject&)>;
  using QuotaCheck = std::function<void(std::size_t keys, std::size_t asymmetric)>;
  std::vector<CK_OBJECT_HANDLE> Insert(std::vector<StoredObject> rows, const Sealer& seal, const QuotaCheck& quota);
  // The holder's change (the row is sealed and signed again); without a sealer, a change by someone
  // else that keeps the holder's signature (an admin's CKA_TRUSTED endorsement, shares).
  void Update(StoredObject row, const Sealer& seal);
  void Delete(CK_OBJECT_HANDLE h);
  // A row, its MAC verified (CKR_SEALHSM_INTEGRITY_FAILURE naming it otherwise); with the state key
  // closed, unverified (a public session reads public objects by their holders' signatures).
  std::optional<StoredObject> Load(CK_OBJECT_HANDLE h);
  // Rows whose indexed columns match, each checked against its MAC (`damaged` when it fails, state
  // key open). A damaged row's columns may have been edited, so it could have matched any search:
  // Damaged() lists every row found damaged since the token was unlocked (the unlock checks each
  // row), for every search to report.
  std::vector<StoredObject> Find(const FindQuery& q);
  std::vector<CK_OBJECT_HANDLE> Damaged();
  // (keys, asymmetric keys) stored, for the quotas: one read of the counts meta keeps.
  std::pair<std::size_t, std::size_t> CountKeys();

  // C_InitToken on an initialized token (state key open): one transaction deletes every object and
  // every user but `keep` (the SO), and sets the label in the signed header.
  void Reinitialize(const std::string& keep, const std::string& label, const SecureBytes& keep_mac_key);
  void SetLabel(const std::string& label);  // state key open; the header is signed again
  void ReserveHandles(int64_t upto);  // no handle up to `upto` is given (a migration keeps old ones)

  // A consistent copy of the live token into `dest_dir` (SQLite's online backup).
  void Backup(const std::string& dest_dir);

 private:
  struct Change;
  struct PendingInsert;
  TokenStore() = default;
  // Inserts every queued batch in one write transaction (mu_ held); fills in each one's outcome.
  void CommitInserts(const std::vector<PendingInsert*>& batch);
  statemac::Manifest ReadManifest();  // mu_ held, state key open
  // mu_ held. With `each_row`, every object row's MAC is also recomputed and the damaged ones
  // recorded (damaged_objects_), as at unlock; without, only the manifest's digest is checked.
  void VerifyAllRows(const statemac::Manifest& m, std::set<std::string>* damaged_users, bool each_row = false);
  bool RowMacOk(const StoredObject& o) const;
  // Runs `body` in one write transaction that raises the generation by one; `body` reports the rows
  // it changed and the manifest follows.
  void Write(const std::function<void(int64_t gen, std::vector<Change>& changes)>& body);
  // Fails closed: `what` is kept and every later call fails with it.
  [[noreturn]] void Poison(const std::string& what);
  void ThrowIfPoisoned() const;  // mu_ held
  Bytes RowMac(const StoredObject& o) const;
  Bytes UserMac(const User& u, int64_t gen) const;
  std::pair<int64_t, int64_t> KeyCounts();        // (keys, asymmetric keys); mu_ held
  void PutKeyCounts(int64_t keys, int64_t asym);  // in the caller's write transaction
  bool UserMacOk(const User& u) const;  // state key open
  // The user layer (user_state.cc), mu_ held.
  Bytes UserScope(const std::string& name) const;  // token id || user: what a user manifest names
  Bytes Contribution(ByteView mac_key, const StoredObject& o) const;  // a held row's part of its holder's manifest
  statemac::Manifest ComputeUserState(const std::string& name, ByteView mac_key);  // from the rows it holds
  std::optional<statemac::Manifest> ReadUserState(const std::string& name, ByteView mac_key);
  void PutUserState(const std::string& name, ByteView mac_key, const statemac::Manifest& m);
  GenerationMark& UserMark(const std::string& name);
  // In the writer's transaction: moves its manifest by the rows it changed; returns it when it moved.
  std::optional<statemac::Manifest> ApplyToWriterState(int64_t gen, const std::vector<Change>& changes);
  // Poll: the writer's manifest still matches the rows it holds, and is no older than `acknowledged`
  // (its mark, read before the snapshot). `followed`: the manifest the change log leads to from the
  // one last verified, checked against the stored one at the cost of one MAC; without it (first
  // poll, a gap in the log) every held row is counted again.
  void CheckWriterState(int64_t acknowledged, const std::optional<statemac::Manifest>& followed);
  void WriteUserRow(User& u, int64_t gen, std::vector<Change>& changes);  // in the caller's write transaction
  // In the caller's write transaction: `name` leaves the row's shares (its MAC checked first).
  void DropShareOf(StoredObject& o, const std::string& name, int64_t gen, std::vector<Change>& changes);

  std::mutex mu_;  // one connection per token object; calls are serialized
  std::mutex queue_mu_;  // guards queue_, committing_ and each queued insert's `done`
  std::vector<PendingInsert*> queue_;  // inserts waiting for the next commit
  bool committing_ = false;            // a thread is committing a batch
  std::condition_variable committed_;  // a batch's commit ended
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<sql::Stmt> data_version_stmt_;  // prepared once: checked before every operation
  std::string dir_, profile_, label_;
  int max_failed_logins_ = -1;
  Bytes token_id_;
  int64_t data_version_ = 0;
  SecureBytes state_key_;
  statemac::Manifest known_;  // the manifest last verified by this process
  int64_t highest_seen_ = 0;  // the highest generation this process has verified or written
  std::unique_ptr<GenerationMark> mark_;
  std::string mirror_;  // the generation mirror; each user's mark sits beside it, named for the user
  std::string writer_;  // the user layer: who writes, its MAC key, and its marks
  SecureBytes writer_mac_;
  std::optional<statemac::Manifest> writer_known_;  // the writer's manifest last verified here
  std::map<std::string, std::unique_ptr<GenerationMark>> user_marks_;
  std::string poisoned_;      // set once a rollback is seen: every later call fails with it
  std::set<CK_OBJECT_HANDLE> damaged_objects_;  // rows that failed their MAC since the unlock
};

// "object 0x2a ('label')", for messages that name a damaged object.
std::string DescribeObject(const StoredObject& row);

// Every column of an object row, for its MAC under the state key.
Bytes ObjectState(ByteView token_id, const StoredObject& o);

}  // namespace hsm
