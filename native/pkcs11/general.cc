// native/pkcs11/general.cc
//
// PKCS#11 §5.4–5.6: C_Initialize / C_Finalize / C_GetInfo, slots and tokens, mechanisms, token
// administration (C_InitToken, C_InitPIN, C_SetPIN), sessions and login. Thin: checks pointers,
// converts, calls core.
#include <unistd.h>

#include <cstring>
#include <mutex>

#include "config.h"
#include "door.h"
#include "entry.h"

using namespace hsm;
using namespace hsm::p11;

namespace {

std::mutex g_slots_mu;
std::vector<CK_SLOT_ID> g_slots;
// C_Initialize and C_Finalize one at a time: two threads initializing at once both saw "not yet"
// and made the slots twice (the second failed with CKR_SLOT_ID_INVALID instead of
// CKR_CRYPTOKI_ALREADY_INITIALIZED).
std::mutex g_lifecycle_mu;

bool OurSlot(CK_SLOT_ID id) {
  std::lock_guard lock(g_slots_mu);
  return std::find(g_slots.begin(), g_slots.end(), id) != g_slots.end();
}

bool ReadOnlySessionOpen(CK_SLOT_ID slot) {
  for (CK_SESSION_HANDLE h : Library::Instance().SessionsOf(slot)) {
    try {
      if (!Library::Instance().Resolve(h).session->ReadWrite()) return true;
    } catch (const Error&) {  // closed meanwhile
    }
  }
  return false;
}

std::shared_ptr<Token> TokenOf(CK_SLOT_ID id) {
  if (!OurSlot(id)) Fail(CKR_SLOT_ID_INVALID, "no such slot");
  return Library::Instance().TokenAt(id);
}

void NeedAdminFunctions(const Token& t) {
  if (!t.profile().token_admin_functions) Fail(CKR_FUNCTION_NOT_SUPPORTED, std::string("not offered by the ") + t.profile().name + " profile");
}

// The user a PIN names: the pkcs11 profile's SO or normal user, or CloudHSM's "user:password".
std::pair<std::string, std::string> UserAndPassword(const Token& t, CK_USER_TYPE type, ByteView pin) {
  std::string text(reinterpret_cast<const char*>(pin.data), pin.size);
  if (t.profile().only_crypto_user != nullptr) {
    if (type == CKU_SO) return {t.profile().admin_name, text};
    if (type == CKU_USER) return {t.profile().only_crypto_user, text};
    Fail(CKR_USER_TYPE_INVALID, "CKU_SO or CKU_USER");
  }
  auto colon = text.find(':');
  if (colon == std::string::npos) Fail(CKR_PIN_INCORRECT, "the PIN is user:password");
  return {text.substr(0, colon), text.substr(colon + 1)};
}

bool UserExists(const Token& t, const std::string& name) {
  for (const auto& u : t.ListUsers()) {
    if (u.name == name) return true;
  }
  return false;
}

}  // namespace

namespace hsm::p11 {
std::vector<CK_SLOT_ID> Slots() {
  std::lock_guard lock(g_slots_mu);
  return g_slots;
}
}  // namespace hsm::p11

extern "C" {

SEALHSM_EXPORT CK_RV C_Initialize(CK_VOID_PTR pInitArgs) {
  return GuardNoInit([&]() -> CK_RV {
    std::lock_guard lifecycle(g_lifecycle_mu);
    if (Initialized()) return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    const CK_C_INITIALIZE_ARGS* app_mutexes = nullptr;
    if (pInitArgs != nullptr) {
      auto* a = static_cast<CK_C_INITIALIZE_ARGS*>(pInitArgs);
      if (a->pReserved != nullptr) return CKR_ARGUMENTS_BAD;
      bool any = a->CreateMutex || a->DestroyMutex || a->LockMutex || a->UnlockMutex;
      bool all = a->CreateMutex && a->DestroyMutex && a->LockMutex && a->UnlockMutex;
      if (any && !all) return CKR_ARGUMENTS_BAD;
      // With CKF_OS_LOCKING_OK the OS's locks serve; with only the callbacks, the application's.
      if (any && !(a->flags & CKF_OS_LOCKING_OK)) app_mutexes = a;
    }
    static pid_t loaded_in = getpid();
    if (loaded_in != getpid()) {  // a forked child: the parent's tokens are not ours to touch
      Library::Instance().ForgetAllAfterFork();
      loaded_in = getpid();
      std::lock_guard lock(g_slots_mu);
      g_slots.clear();
    }
    hsm::ossl::EnsureSecureHeap();  // private-key BIGNUMs in locked, undumped memory (unless the host made one)
    std::vector<SlotConfig> configs = LoadConfig();
    std::vector<CK_SLOT_ID> ids;
    for (SlotConfig& c : configs) {
      try {
        ids.push_back(Library::Instance().AddToken(MakeToken(c), c.id));
      } catch (const Error& e) {
        Log(c.dir + ": " + e.what());
        for (CK_SLOT_ID id : ids) Library::Instance().RemoveToken(id);
        throw;
      }
    }
    {
      std::lock_guard lock(g_slots_mu);
      g_slots = std::move(ids);
    }
    UseApplicationMutex(app_mutexes);
    SetInitialized(true);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_Finalize(CK_VOID_PTR pReserved) {
  CK_RV rv = Guard([&]() -> CK_RV {
    if (pReserved != nullptr) return CKR_ARGUMENTS_BAD;
    std::lock_guard lifecycle(g_lifecycle_mu);
    SetInitialized(false);  // the application mutex is released once this call returns (below)
    std::lock_guard lock(g_slots_mu);
    for (CK_SLOT_ID id : g_slots) Library::Instance().RemoveToken(id);
    g_slots.clear();
    return CKR_OK;
  });
  if (rv == CKR_OK) DropApplicationMutex();
  return rv;
}

SEALHSM_EXPORT CK_RV C_GetInfo(CK_INFO* pInfo) {
  return Guard([&]() -> CK_RV {
    Need(pInfo);
    std::memset(pInfo, 0, sizeof *pInfo);
    pInfo->cryptokiVersion = {2, 40};
    Pad(pInfo->manufacturerID, 32, "sealhsm");
    Pad(pInfo->libraryDescription, 32, "sealhsm software HSM");
    pInfo->libraryVersion = {0, 1};
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_GetSlotList(CK_BBOOL, CK_SLOT_ID* pSlotList, CK_ULONG_PTR pulCount) {
  return Guard([&]() -> CK_RV {
    return EmitList(Slots(), pSlotList, pulCount);
  });
}

SEALHSM_EXPORT CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO* pInfo) {
  return Guard([&]() -> CK_RV {
    Need(pInfo);
    auto t = TokenOf(slotID);
    std::memset(pInfo, 0, sizeof *pInfo);
    Pad(pInfo->slotDescription, 64, "sealhsm " + std::string(t->profile().name) + " token '" + t->label() + "'");
    Pad(pInfo->manufacturerID, 32, "sealhsm");
    pInfo->flags = CKF_TOKEN_PRESENT;
    pInfo->hardwareVersion = pInfo->firmwareVersion = {0, 1};
    return CKR_OK;
  });
}

// CK_TOKEN_INFO's PIN flags: a wrong PIN since the last success; one more locks it; locked.
static CK_FLAGS PinFlags(const Token::PinState& st, CK_FLAGS low, CK_FLAGS final_try, CK_FLAGS locked) {
  if (st.locked) return locked;
  CK_FLAGS f = st.failures > 0 ? low : 0;
  if (st.max_failed_logins > 0 && st.failures == st.max_failed_logins) f |= final_try;
  return f;
}

SEALHSM_EXPORT CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO* pInfo) {
  return Guard([&]() -> CK_RV {
    Need(pInfo);
    auto t = TokenOf(slotID);
    const Profile& p = t->profile();
    std::memset(pInfo, 0, sizeof *pInfo);
    Pad(pInfo->label, 32, t->label());
    Pad(pInfo->manufacturerID, 32, "sealhsm");
    Pad(pInfo->model, 16, p.name);
    Pad(pInfo->serialNumber, 16, std::to_string(slotID));
    bool activated = t->Activated();
    bool user = p.only_crypto_user == nullptr ? activated : UserExists(*t, p.only_crypto_user);
    pInfo->flags = CKF_RNG | CKF_LOGIN_REQUIRED | (activated ? CKF_TOKEN_INITIALIZED : 0) | (user ? CKF_USER_PIN_INITIALIZED : 0);
    if (p.only_crypto_user != nullptr) {  // one SO and one user: the standard's PIN state flags
      pInfo->flags |= PinFlags(t->PinStatus(p.only_crypto_user), CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED);
      pInfo->flags |= PinFlags(t->PinStatus(p.admin_name), CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_FINAL_TRY, CKF_SO_PIN_LOCKED);
    }
    std::size_t sessions = Library::Instance().SessionCount(slotID);
    pInfo->ulMaxSessionCount = pInfo->ulMaxRwSessionCount = p.max_sessions;
    pInfo->ulSessionCount = pInfo->ulRwSessionCount = sessions;
    pInfo->ulMaxPinLen = p.only_crypto_user ? p.max_password : p.max_password + 32;  // cloudhsm PINs are user:password
    pInfo->ulMinPinLen = p.min_password;
    pInfo->ulTotalPublicMemory = pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulTotalPrivateMemory = pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->hardwareVersion = pInfo->firmwareVersion = {0, 1};
    std::memset(pInfo->utcTime, ' ', 16);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE* pList, CK_ULONG_PTR pulCount) {
  return Guard([&]() -> CK_RV {
    auto t = TokenOf(slotID);
    std::vector<CK_MECHANISM_TYPE> list;
    for (const MechanismInfo& m : AllMechanisms()) {
      bool offered = OfferedIn(m, t->profile().families);
      if (offered) list.push_back(m.type);
    }
    return EmitList(list, pList, pulCount);
  });
}

SEALHSM_EXPORT CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO* pInfo) {
  return Guard([&]() -> CK_RV {
    Need(pInfo);
    auto t = TokenOf(slotID);
    const MechanismInfo* m = FindMechanism(type);
    if (m == nullptr || !OfferedIn(*m, t->profile().families)) return CKR_MECHANISM_INVALID;
    pInfo->ulMinKeySize = m->gen_key_type == CKK_RSA ? std::min(m->min_key, t->profile().min_rsa_keygen_bits) : m->min_key;
    pInfo->ulMaxKeySize = m->max_key;
    pInfo->flags = FlagsIn(*m, t->profile().families);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR* pPin, CK_ULONG ulPinLen, CK_UTF8CHAR* pLabel) {
  return Guard([&]() -> CK_RV {
    auto t = TokenOf(slotID);
    NeedAdminFunctions(*t);
    Need(pPin);
    std::string label;
    if (pLabel != nullptr) {
      // 32 bytes, blank-padded, not NUL-terminated (PKCS#11 §5.5). Some bindings (pkcs11js) pass a
      // shorter NUL-terminated string instead: never read past a NUL.
      std::size_t n = 0;
      while (n < 32 && pLabel[n] != 0) n++;
      label.assign(reinterpret_cast<const char*>(pLabel), n);
      std::size_t end = label.find_last_not_of(' ');
      label.resize(end == std::string::npos ? 0 : end + 1);
    }
    t->InitToken(In(pPin, ulPinLen), label, Library::Instance().SessionCount(slotID));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR* pPin, CK_ULONG ulPinLen) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    NeedAdminFunctions(*b.token);
    Need(pPin);
    b.token->InitPin(In(pPin, ulPinLen));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR* pOldPin, CK_ULONG ulOldLen, CK_UTF8CHAR* pNewPin, CK_ULONG ulNewLen) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    NeedAdminFunctions(*b.token);
    Need(pOldPin);
    Need(pNewPin);
    if (!b.session->ReadWrite()) return CKR_SESSION_READ_ONLY;
    auto who = b.token->WhoIsLoggedIn();
    CK_USER_TYPE type = who && who->role == Role::kAdmin ? CKU_SO : CKU_USER;
    auto [user, old_pw] = UserAndPassword(*b.token, type, In(pOldPin, ulOldLen));
    b.token->SetPin(user, ByteView(reinterpret_cast<const uint8_t*>(old_pw.data()), old_pw.size()), In(pNewPin, ulNewLen));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR, CK_NOTIFY Notify, CK_SESSION_HANDLE* phSession) {
  return Guard([&]() -> CK_RV {
    Need(phSession);
    auto t = TokenOf(slotID);
    // CloudHSM refuses notification callbacks; a standard token simply never calls them.
    if (Notify != nullptr && t->profile().ownership) return CKR_ARGUMENTS_BAD;
    if (t->profile().standard_session_rules && (flags & CKF_RW_SESSION) == 0) {
      auto who = t->WhoIsLoggedIn();
      if (who && who->role == Role::kAdmin) return CKR_SESSION_READ_WRITE_SO_EXISTS;
    }
    *phSession = Library::Instance().OpenSession(slotID, flags);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_CloseSession(CK_SESSION_HANDLE hSession) {
  return Guard([&]() -> CK_RV {
    Library::Instance().CloseSession(hSession);
    DropPending(hSession);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_CloseAllSessions(CK_SLOT_ID slotID) {
  return Guard([&]() -> CK_RV {
    (void)TokenOf(slotID);
    for (CK_SESSION_HANDLE s : Library::Instance().SessionsOf(slotID)) DropPending(s);
    Library::Instance().CloseAllSessions(slotID);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO* pInfo) {
  return Guard([&]() -> CK_RV {
    Need(pInfo);
    Bound b = Resolve(hSession);
    auto who = b.token->WhoIsLoggedIn();
    bool rw = b.session->ReadWrite();
    pInfo->slotID = b.session->slot;
    pInfo->flags = b.session->flags;
    pInfo->ulDeviceError = 0;
    if (!who) pInfo->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
    else if (who->role == Role::kAdmin) pInfo->state = CKS_RW_SO_FUNCTIONS;
    else pInfo->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR* pPin, CK_ULONG ulPinLen) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    Need(pPin);
    if (userType == CKU_CONTEXT_SPECIFIC) return CKR_OPERATION_NOT_INITIALIZED;  // no key here needs re-authentication
    if (userType != CKU_SO && userType != CKU_USER) return CKR_USER_TYPE_INVALID;
    auto [user, password] = UserAndPassword(*b.token, userType, In(pPin, ulPinLen));
    const Profile& p = b.token->profile();
    if (p.only_crypto_user != nullptr && userType == CKU_USER && !UserExists(*b.token, user)) return CKR_USER_PIN_NOT_INITIALIZED;
    if (p.standard_session_rules) {
      if (auto who = b.token->WhoIsLoggedIn()) return who->user == user ? CKR_USER_ALREADY_LOGGED_IN : CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
      if (userType == CKU_SO && ReadOnlySessionOpen(b.session->slot)) return CKR_SESSION_READ_ONLY_EXISTS;
    } else if (userType == CKU_SO && !b.session->ReadWrite()) {
      return CKR_SESSION_READ_ONLY_EXISTS;
    }
    for (const auto& u : b.token->ListUsers()) {  // CloudHSM: CKU_USER is a crypto user, CKU_SO an admin
      if (u.name == user && ((userType == CKU_USER) != (u.role == Role::kCryptoUser))) return CKR_USER_TYPE_INVALID;
    }
    b.token->Login(user, ByteView(reinterpret_cast<const uint8_t*>(password.data()), password.size()));
    WipeMemory(password.data(), password.size());
    return CKR_OK;
  });
}

// PKCS#11 3.0 §5.6: a login that names the user — CloudHSM's crypto users and admins by name.
SEALHSM_EXPORT CK_RV C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR* pPin, CK_ULONG ulPinLen,
                                 CK_UTF8CHAR* pUsername, CK_ULONG ulUsernameLen) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    Need(pUsername);
    Need(pPin);
    std::string name(reinterpret_cast<const char*>(pUsername), ulUsernameLen);
    if (b.token->profile().only_crypto_user != nullptr) {
      std::string expected = userType == CKU_SO ? b.token->profile().admin_name : b.token->profile().only_crypto_user;
      if (name != expected) return CKR_USER_TYPE_INVALID;
      return C_Login(hSession, userType, pPin, ulPinLen);
    }
    std::string pin = name + ":" + std::string(reinterpret_cast<const char*>(pPin), ulPinLen);
    CK_RV rv = C_Login(hSession, userType, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
    WipeMemory(pin.data(), pin.size());
    return rv;
  });
}

// PKCS#11 3.0 §5.6: ends the session's active operations named by the flags (CKF_ENCRYPT, ...).
SEALHSM_EXPORT CK_RV C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    const std::pair<CK_FLAGS, OpKind> kinds[] = {{CKF_ENCRYPT, OpKind::kEncrypt}, {CKF_DECRYPT, OpKind::kDecrypt}, {CKF_SIGN, OpKind::kSign},
                                                 {CKF_VERIFY, OpKind::kVerify}, {CKF_DIGEST, OpKind::kDigest}};
    for (const auto& [flag, kind] : kinds) {
      if (flags & flag) b.token->EndOperation(*b.session, kind);
    }
    if (flags & CKF_FIND_OBJECTS) {
      try {
        b.token->FindFinal(*b.session);
      } catch (const Error&) {
      }
    }
    DropPending(hSession);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_Logout(CK_SESSION_HANDLE hSession) {
  return Guard([&]() -> CK_RV {
    Resolve(hSession).token->Logout();
    return CKR_OK;
  });
}

}  // extern "C"
