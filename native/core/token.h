// native/core/token.h
//
// A token (PKCS#11 v3.0 §5.5–5.14 semantics; CloudHSM rules from the profile): its users and login
// state, its objects, and every operation on them for a session the Library has resolved.
// Thread-safe: objects under a shared_mutex (immutable, replaced copy-on-write), users and login
// under their own mutex, operation state per session. One-shot calls (Crypt, SignOnce, ...) are
// atomic and do not occupy the session's operation slot, so many may run at once on one session;
// they fail with CKR_OPERATION_ACTIVE only while a multi-part operation of that kind is active.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "profile.h"
#include "session.h"
#include "store/file_lock.h"
#include "store/token_store.h"
#include "store/user_keys.h"
#include "users.h"

namespace hsm {

struct AttributeValue {
  CK_ATTRIBUTE_TYPE type;
  CK_RV status;  // CKR_OK, CKR_ATTRIBUTE_SENSITIVE or CKR_ATTRIBUTE_TYPE_INVALID
  Bytes value;
};

enum class OpKind { kEncrypt, kDecrypt, kSign, kVerify, kDigest };

struct LoginState {
  std::string user;
  Role role;
};

struct KeyOwnership {
  std::string owner;
  std::vector<std::string> shared_with;
};

class Token {
 public:
  // Persistent tokens: token objects take the store's row ids; session objects take handles from here.
  static constexpr CK_OBJECT_HANDLE kFirstSessionHandle = CK_OBJECT_HANDLE{1} << 40;
  Token(const Profile& profile, std::string label, int max_failed_logins = -1)
      : profile_(profile), label_(std::move(label)), users_(profile, max_failed_logins) {}
  // A persistent token over a store. `unseal_key` (32 bytes), when given, opens the state key and one
  // crypto user's keys at once for unattended services (the first crypto user to log in with it).
  Token(const Profile& profile, std::unique_ptr<TokenStore> store, std::optional<SecureBytes> unseal_key);
  bool Persistent() const { return store_ != nullptr; }
  // `sealhsm token migrate`: rewrites the format-2 token in `dir` as format 3, with the password of
  // every user (by name). The old token is verified whole first and kept as <dir>.format2, which
  // is returned. Nobody may be using the token meanwhile.
  static std::string Migrate(const std::string& dir, const std::map<std::string, SecureBytes>& passwords);
  void Backup(const std::string& dest_dir);
  // A service that keeps state of its own on the token (the KMS endpoint: `name` "kms") claims it for
  // this process, so a second server on the same token refuses to start (naming the process that
  // holds it) rather than split that state. Held until released or the process ends; a memory token
  // has nothing to claim. Names are [a-z]{1,16}.
  void ClaimService(const std::string& name);
  void ReleaseService(const std::string& name);
  const Profile& profile() const { return profile_; }
  std::string label() const;  // C_InitToken may change it
  std::size_t ObjectCount() const;
  // The object is in memory (a session object, or a token object already loaded): using it reads
  // nothing from the store.
  bool Resident(CK_OBJECT_HANDLE h) const;

  // Users and login (CloudHSM §2; PKCS#11 §5.6 C_Login / C_Logout, app-wide)
  bool Activated() const;
  void Activate(ByteView password);
  void Login(const std::string& user, ByteView password);
  void Logout();
  // `sealhsm token accept-rollback`: the admin (the SO) accepts the token's state although it is
  // older than the generation last acknowledged (a restored backup, a cut-off write-ahead log). The
  // admin's password is checked as at login; nobody may be logged in in this process; the act is
  // recorded in operator.log. Persistent tokens only.
  void AcceptRollback(const std::string& user, ByteView password);
  // `sealhsm token unlock`: a user locked by failed logins (the sole admin included, whom nobody
  // else could unlock) is unlocked by proving its own password where the token's files are — no
  // lockout applies, as none does to someone with the files, who could test passwords offline at
  // scrypt's cost anyway. A wrong password still counts. Recorded in operator.log. Persistent only.
  void UnlockUser(const std::string& user, ByteView password);
  std::optional<LoginState> WhoIsLoggedIn() const;
  void CreateUser(const std::string& user, ByteView password, Role role);
  void DeleteUser(const std::string& user);
  // An admin changing another user's password resets it (token format 3): without the old password
  // nothing opens the user's keys, so a user who holds objects is refused unless `discard_keys`
  // says to delete them (recorded in operator.log). A user changing its own keeps them.
  void ChangePassword(const std::string& user, ByteView password, bool discard_keys = false);
  std::vector<UserView> ListUsers() const;
  // A memory token's users from a provisioning file (salted verifiers, no passwords): the module's
  // `users=` slot option. The admin among them activates the token. CKR_ARGUMENTS_BAD on a bad list.
  void Provision(std::vector<User> users);
  // Failed logins of a user and the lockout rule (C_GetTokenInfo's CKF_*_PIN_COUNT_LOW, _FINAL_TRY, _LOCKED).
  struct PinState {
    int failures = 0;
    int max_failed_logins = 0;  // 0: never locks
    bool locked = false;
  };
  PinState PinStatus(const std::string& user) const;
  // PKCS#11 token administration (§5.5): C_InitToken, C_InitPIN, C_SetPIN.
  // `label`: the new token label (empty keeps the current one).
  void InitToken(ByteView so_pin, const std::string& label, std::size_t open_sessions);
  void InitPin(ByteView pin);                                   // the SO sets the normal user's PIN
  void SetPin(const std::string& user, ByteView old_pin, ByteView new_pin);
  CK_OBJECT_HANDLE CopyObject(Session& s, CK_OBJECT_HANDLE h, const Template& t);

  // Objects (§5.7)
  CK_OBJECT_HANDLE CreateObject(Session& s, const Template& t);
  void DestroyObject(Session& s, CK_OBJECT_HANDLE h);
  std::vector<AttributeValue> GetAttributes(Session& s, CK_OBJECT_HANDLE h, const std::vector<CK_ATTRIBUTE_TYPE>& types);
  // C_SetAttributeValue (pkcs11 profile) and CloudHSM's `key set-attribute` (one-way rules).
  void SetAttributes(Session& s, CK_OBJECT_HANDLE h, const Template& t);
  std::vector<CK_OBJECT_HANDLE> FindObjects(Session& s, const Template& t);
  void FindInit(Session& s, const Template& t);
  std::vector<CK_OBJECT_HANDLE> FindNext(Session& s, std::size_t max);
  std::size_t FindRemaining(Session& s);  // what FindNext has left, without taking it
  void FindFinal(Session& s);
  // Key sharing (CloudHSM `key share` / `key unshare`)
  void ShareKey(Session& s, CK_OBJECT_HANDLE h, const std::string& user, bool share);
  KeyOwnership Ownership(Session& s, CK_OBJECT_HANDLE h);

  // Keys (§5.14)
  CK_OBJECT_HANDLE GenerateKey(Session& s, const MechParams& m, const Template& t);
  std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> GenerateKeyPair(Session& s, const MechParams& m, const Template& pub,
                                                                const Template& priv);
  // `iv_out` receives an IV the token generated (CloudHSM GCM), as for C_Encrypt.
  Bytes WrapKey(Session& s, const MechParams& m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, Bytes* iv_out = nullptr);
  CK_OBJECT_HANDLE UnwrapKey(Session& s, const MechParams& m, CK_OBJECT_HANDLE unwrapping, ByteView wrapped, const Template& t);
  CK_OBJECT_HANDLE DeriveKey(Session& s, const MechParams& m, CK_OBJECT_HANDLE base, const Template& t);

  // Encrypt / decrypt (§5.8, §5.9). `iv_out` receives an IV the token generated (CloudHSM GCM).
  void CipherInit(Session& s, bool encrypt, const MechParams& m, CK_OBJECT_HANDLE key, Bytes* iv_out = nullptr);
  Bytes CipherUpdate(Session& s, bool encrypt, ByteView in);
  // Where the *Into calls write: `alloc(bound)` returns memory for at most `bound` bytes.
  using OutputAlloc = std::function<uint8_t*(std::size_t bound)>;
  std::size_t CipherUpdateInto(Session& s, bool encrypt, ByteView in, const OutputAlloc& alloc);  // as CryptInto
  Bytes CipherFinal(Session& s, bool encrypt);
  Bytes CipherSingle(Session& s, bool encrypt, ByteView in);  // C_Encrypt after C_EncryptInit
  Bytes Crypt(Session& s, bool encrypt, const MechParams& m, CK_OBJECT_HANDLE key, ByteView in, Bytes* iv_out = nullptr);
  // The same, written straight into memory the caller gives once the output's bound is known
  // (`alloc(bound)`); returns the bytes written. For bulk data: the payload is copied once, from
  // `in` to the output, by the cipher itself.
  std::size_t CryptInto(Session& s, bool encrypt, const MechParams& m, CK_OBJECT_HANDLE key, ByteView in, const OutputAlloc& alloc,
                        Bytes* iv_out = nullptr);

  // Sign / verify (§5.11, §5.13)
  void SignInit(Session& s, bool sign, const MechParams& m, CK_OBJECT_HANDLE key);
  void SignUpdate(Session& s, bool sign, ByteView in);
  Bytes SignFinal(Session& s);
  void VerifyFinal(Session& s, ByteView sig);  // throws CKR_SIGNATURE_INVALID / _LEN_RANGE
  Bytes SignSingle(Session& s, ByteView in);
  void VerifySingle(Session& s, ByteView in, ByteView sig);
  Bytes SignOnce(Session& s, const MechParams& m, CK_OBJECT_HANDLE key, ByteView in);
  void VerifyOnce(Session& s, const MechParams& m, CK_OBJECT_HANDLE key, ByteView in, ByteView sig);

  // Digest (§5.10)
  void DigestInit(Session& s, const MechParams& m);
  void DigestUpdate(Session& s, ByteView in);
  void DigestKey(Session& s, CK_OBJECT_HANDLE key);  // C_DigestKey: a secret key's value, inside the token
  Bytes DigestFinal(Session& s);
  Bytes DigestSingle(Session& s, ByteView in);  // C_Digest after C_DigestInit
  Bytes DigestOnce(Session& s, const MechParams& m, ByteView in);

  // Ends an active operation of a kind (a C_* call that fails its argument checks still ends it).
  void EndOperation(Session& s, OpKind kind);

  // Session objects die with the session that created them.
  void DropSessionObjects(CK_SESSION_HANDLE h);

 private:
  std::optional<LoginState> Caller() const;
  bool Visible(const Object& o, const std::optional<LoginState>& c) const;
  ObjectRef Lookup(CK_OBJECT_HANDLE h, CK_RV invalid) const;   // visible to the caller, or `invalid`
  ObjectRef Owned(CK_OBJECT_HANDLE h, CK_RV invalid, CK_RV not_owner, const char* what) const;
  std::string RequireCreator(bool private_object) const;       // who will own a new object
  void RequireKeyUser() const;                                  // may the caller use keys at all?
  void Replace(CK_OBJECT_HANDLE h, const ObjectRef& before, std::shared_ptr<Object> after);
  CK_OBJECT_HANDLE Store(Session& s, std::shared_ptr<Object> obj);
  // mu_ held; `stored_*` are the store's counts (read inside its write transaction), 0 for memory tokens.
  void CheckQuota(std::size_t new_keys, std::size_t new_asymmetric, std::size_t stored_keys = 0, std::size_t stored_asymmetric = 0) const;
  // Keeps the quota's count of the objects CheckQuota counts (every object of a memory token; a
  // persistent token's session objects) as objects_ gains (+1) or loses (-1) one. Under mu_.
  void Tally(CK_OBJECT_HANDLE h, const Object& o, int delta) const;
  // Persistent tokens: token objects inserted in one transaction (a key pair's halves together).
  // `fixed_handle`: a migration keeps each object's handle (one object per call).
  std::vector<CK_OBJECT_HANDLE> StoreTokenObjects(std::vector<std::shared_ptr<Object>> objs, CK_OBJECT_HANDLE fixed_handle = 0);
  const MechanismInfo& MechanismFor(CK_MECHANISM_TYPE type, CK_FLAGS function) const;
  // Persistent tokens: another process changed the token → reload users, forget what it changed.
  void Refresh() const;
  // The login check (auth_mu_ held): counts the attempt first, then one scrypt against the user's
  // verifier or a dummy one, the same for unknown, locked and existing users. Returns the normalized
  // name; `kek` gets the user's key-encryption key.
  std::string CheckPassword(const std::string& raw, ByteView password, SecureBytes* kek, Role* role);
  int CountAttempt(const std::string& name);    // failures before this attempt; auth_mu_ held
  void ClearAttempts(const std::string& name);  // auth_mu_ held
  // Persistent tokens (token_user_keys.cc; auth_mu_ held). The password proven by opening the user's
  // own wrap of the state key and its UK; the token state, the user's keys and the user's own state
  // verified with them. Returns what the UK opens.
  using Secrets = std::shared_ptr<const userkeys::UserSecrets>;
  // `accept_*_rollback`: who accepts an older state of the token (an admin) or of the user's objects.
  Secrets ProveAndUnlock(const std::string& name, const SecureBytes& kek, const std::string* accept_token_rollback = nullptr,
                         const std::string* accept_user_rollback = nullptr);
  void UnlockStore(const std::string* accept_rollback_by = nullptr);  // master_ open
  Secrets OpenUserKeys(const User& u, ByteView wrapped_keys) const;   // the UK's keys, checked against the record
  // A new user's record (or a reset one's): fresh keys, certified with the admin key of `certifier`
  // (or `admin_seed` at activation), wrapped under `kek`. Sets u's key columns; returns its keys.
  Secrets NewUserKeys(User& u, const SecureBytes& kek, ByteView admin_seed, bool holds_admin_key);
  void WrapUserKeys(User& u, const SecureBytes& kek, const userkeys::UserSecrets& keys) const;
  void RekeySelf(const std::string& name, const SecureBytes& kek, const Secrets& now);  // a user's own password change
  void ResetOther(const std::string& name, ByteView password, bool discard_keys);  // an admin's reset
  void ActivateStore(const SecureBytes& kek, const std::string* label = nullptr);  // the first admin's keys and the admin key
  void SaveUnsealWrap();  // the unseal key's wrap of the logged-in user's keys, the first time both are open
  void CloseMaster();  // wipes the state key and the user's keys unless an unseal key keeps them open
  Secrets Writer() const;  // whose keys write objects now: the logged-in user's, else the unseal key's user's
  void RestoreWriter();    // the store writes as Writer() again (auth_mu_ held)
  SecureBytes Payload(const Object& o) const;                           // what an object's seal protects
  // Persistent tokens (token_seal.cc): how a row is sealed for its readers and signed by its holder,
  // and read back — the holder's signature, its certificate and CKA_TRUSTED's endorsement checked,
  // the material opened when this process's user may open it.
  TokenStore::Sealer Resealer(const Object& o) const;
  ObjectRef LoadStored(const StoredObject& row) const;
  std::map<std::string, Bytes> Recipients(const Object& o, const std::string& writer) const;  // sharing keys of the other readers
  std::optional<User> CertifiedUser(const std::string& name) const;  // the record, its certificate verified; no lock held
  void Endorse(StoredObject& row) const;  // an admin's CKA_TRUSTED on a row another user holds
  StoredObject ToStored(const Object& o) const;
  void DropCachedTokenObjects() const;              // mu_ held
  ObjectRef UsableKey(CK_OBJECT_HANDLE h, const MechanismInfo& m, CK_ATTRIBUTE_TYPE usage, CK_RV invalid) const;
  void CheckSize(const MechanismInfo& m, std::size_t n) const;
  MechParams Prepared(const MechParams& m) const;
  std::unique_ptr<CipherOp> NewCipher(const MechParams& m, const Object& key, bool encrypt) const;
  std::unique_ptr<SignOp> OneShotSigner(Session& s, const MechParams& m, CK_OBJECT_HANDLE key, ByteView in, bool sign) const;
  std::unique_ptr<SignOp> NewSigner(const MechParams& m, const Object& key, bool sign) const;
  std::shared_ptr<Object> NewKeyObject(const Attributes& t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt) const;
  void Finish(Object& obj, KeyOrigin origin, CK_MECHANISM_TYPE gen_mech, const Bytes* raw_public = nullptr) const;

  const Profile& profile_;
  std::string label_;  // auth_mu_
  mutable std::shared_mutex mu_;
  // Session objects, and for persistent tokens a cache of token objects read (and verified) from the store.
  mutable std::map<CK_OBJECT_HANDLE, ObjectRef> objects_;
  // The cache holds at most kCachedTokenObjects token objects, the oldest let go first (they are
  // read, verified and unsealed again when next used, some microseconds): memory stays flat however
  // many keys the token holds. Entries are (handle, object) so a stale entry never evicts a newer copy.
  static constexpr std::size_t kCachedTokenObjects = 4096;
  mutable std::deque<std::pair<CK_OBJECT_HANDLE, const Object*>> cache_order_;  // mu_
  void Cache(CK_OBJECT_HANDLE h, ObjectRef o) const;  // a token object into objects_; mu_ held (unique)
  mutable std::size_t tallied_keys_ = 0, tallied_asymmetric_ = 0;  // mu_: see Tally
  CK_OBJECT_HANDLE next_handle_ = 1;
  mutable std::mutex auth_mu_;
  mutable UserDb users_;
  std::optional<LoginState> login_;
  std::unique_ptr<TokenStore> store_;
  SecureBytes master_;                 // persistent tokens: the state key while it is open
  Secrets me_;                         // persistent tokens: the logged-in user's keys
  Secrets unsealed_;                   // the keys of the user the unseal key opens
  std::optional<SecureBytes> unseal_;  // the unseal key's KEK, when the service gave one
  mutable Bytes admin_public_;         // the token's admin key, which certifies users (auth_mu_)
  mutable std::mutex certs_mu_;
  mutable std::set<std::string> certified_;  // user records whose certificate verified (name, keys, cert)
  mutable std::set<std::string> damaged_users_;  // persistent: user rows that failed their MAC
  int unknown_failures_ = 0;           // memory tokens: failed logins with unknown names
  std::map<std::string, std::unique_ptr<FileLock>> services_;  // auth_mu_: see ClaimService
};

}  // namespace hsm
