// native/pkcs11/door.cc
#include "door.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "mech/mechanism.h"

namespace hsm::p11 {

namespace {

std::mutex g_mu;
bool g_initialized = false;
pid_t g_pid = 0;
std::map<std::pair<CK_SESSION_HANDLE, Pending>, Bytes> g_pending;

// A copy of the caller's parameter structure: pParameter need not be aligned for T.
template <typename T>
T Param(const CK_MECHANISM* m) {
  if (m->pParameter == nullptr || m->ulParameterLen != sizeof(T)) {
    Fail(CKR_MECHANISM_PARAM_INVALID, "the mechanism parameter has the wrong size");
  }
  T v;
  std::memcpy(&v, m->pParameter, sizeof v);
  return v;
}

std::optional<Bytes> Optional(const CK_BYTE* p, CK_ULONG n) {
  if (n == 0) return Bytes{};
  if (p == nullptr) Fail(CKR_MECHANISM_PARAM_INVALID, "a mechanism parameter points to NULL with a length");
  return Bytes(p, p + n);
}

void Oaep(const CK_RSA_PKCS_OAEP_PARAMS& o, MechParams& m) {
  m.hash_alg = o.hashAlg;
  m.mgf = o.mgf;
  if (o.source != 0 && o.source != CKZ_DATA_SPECIFIED) Fail(CKR_MECHANISM_PARAM_INVALID, "OAEP source must be CKZ_DATA_SPECIFIED");
  m.source_data = Optional(static_cast<const CK_BYTE*>(o.pSourceData), o.ulSourceDataLen);
}

}  // namespace

struct AppMutex {
  CK_C_INITIALIZE_ARGS fns;
  CK_VOID_PTR mutex = nullptr;
};
std::optional<AppMutex> g_app;  // set while initialized with application mutexes

void UseApplicationMutex(const CK_C_INITIALIZE_ARGS* args) {
  std::lock_guard lock(g_mu);
  g_app.reset();
  if (args == nullptr) return;
  AppMutex m{*args, nullptr};
  if (args->CreateMutex(&m.mutex) != CKR_OK) Fail(CKR_CANT_LOCK, "the application's CreateMutex failed");
  g_app = m;
}

void DropApplicationMutex() {
  std::lock_guard lock(g_mu);
  if (g_app) g_app->fns.DestroyMutex(g_app->mutex);
  g_app.reset();
}

bool Initialized() {
  std::lock_guard lock(g_mu);
  return g_initialized && g_pid == getpid();  // a forked child must call C_Initialize again
}

void SetInitialized(bool on) {
  std::lock_guard lock(g_mu);
  g_initialized = on;
  g_pid = on ? getpid() : 0;
  g_pending.clear();
}

void Log(const std::string& line) { std::fprintf(stderr, "sealhsm-pkcs11: %s\n", line.c_str()); }

// SEALHSM_PKCS11_DEBUG=1: every refusal's message goes to stderr (never key material: messages hold
// none), so a program that only sees a CKR_* code can be told why.
bool DebugLog() {
  static const bool on = [] {
    const char* v = std::getenv("SEALHSM_PKCS11_DEBUG");
    return v != nullptr && v[0] == '1';
  }();
  return on;
}

CK_RV GuardNoInit(const std::function<CK_RV()>& f) {
  try {
    return f();
  } catch (const Error& e) {
    if (DebugLog()) Log(e.what());
    return e.rv();
  } catch (const std::bad_alloc&) {
    return CKR_HOST_MEMORY;
  } catch (...) {
    return CKR_GENERAL_ERROR;
  }
}

CK_RV Guard(const std::function<CK_RV()>& f) {
  if (!Initialized()) return CKR_CRYPTOKI_NOT_INITIALIZED;
  std::optional<AppMutex> app;
  {
    std::lock_guard lock(g_mu);
    app = g_app;
  }
  if (!app) return GuardNoInit(f);
  if (app->fns.LockMutex(app->mutex) != CKR_OK) return CKR_CANT_LOCK;
  CK_RV rv = GuardNoInit(f);
  app->fns.UnlockMutex(app->mutex);
  return rv;
}

Bound Resolve(CK_SESSION_HANDLE h) { return Library::Instance().Resolve(h); }

bool TakePending(CK_SESSION_HANDLE s, Pending kind, Bytes* out) {
  std::lock_guard lock(g_mu);
  auto it = g_pending.find({s, kind});
  if (it == g_pending.end()) return false;
  *out = std::move(it->second);
  g_pending.erase(it);
  return true;
}

bool HasPending(CK_SESSION_HANDLE s, Pending kind) {
  std::lock_guard lock(g_mu);
  return g_pending.count({s, kind}) != 0;
}

void DropPending(CK_SESSION_HANDLE s) {
  std::lock_guard lock(g_mu);
  for (auto it = g_pending.begin(); it != g_pending.end();) it = it->first.first == s ? g_pending.erase(it) : std::next(it);
}

CK_RV Emit(CK_SESSION_HANDLE s, Pending kind, Bytes out, CK_BYTE_PTR buf, CK_ULONG_PTR len) {
  Need(len);
  CK_ULONG n = static_cast<CK_ULONG>(out.size());
  if (buf == nullptr || *len < n) {
    CK_RV rv = buf == nullptr ? CKR_OK : CKR_BUFFER_TOO_SMALL;
    *len = n;
    std::lock_guard lock(g_mu);
    g_pending[{s, kind}] = std::move(out);
    return rv;
  }
  if (n > 0) std::memcpy(buf, out.data(), n);
  *len = n;
  return CKR_OK;
}

CK_RV EmitList(const std::vector<CK_ULONG>& items, CK_ULONG* out, CK_ULONG_PTR count) {
  Need(count);
  CK_ULONG n = static_cast<CK_ULONG>(items.size());
  if (out != nullptr && *count < n) {
    *count = n;
    return CKR_BUFFER_TOO_SMALL;
  }
  if (out != nullptr) std::copy(items.begin(), items.end(), out);
  *count = n;
  return CKR_OK;
}

ByteView In(const CK_BYTE* p, CK_ULONG n) {
  if (p == nullptr && n > 0) Fail(CKR_ARGUMENTS_BAD, "NULL data with a non-zero length");
  return ByteView(p, n);
}

void Need(const void* p) {
  if (p == nullptr) Fail(CKR_ARGUMENTS_BAD, "a required pointer is NULL");
}

Template ToTemplate(const CK_ATTRIBUTE* t, CK_ULONG n, bool nested) {
  if (t == nullptr && n > 0) Fail(CKR_ARGUMENTS_BAD, "NULL template with a non-zero count");
  Template out;
  out.reserve(n);
  for (CK_ULONG i = 0; i < n; ++i) {
    const CK_ATTRIBUTE& a = t[i];
    if (a.pValue == nullptr && a.ulValueLen > 0) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "an attribute points to NULL with a length");
    if ((a.type & CKF_ARRAY_ATTRIBUTE) && a.type != CKA_ALLOWED_MECHANISMS) {
      // PKCS#11 has one level: CKA_WRAP/UNWRAP/DERIVE_TEMPLATE hold plain attributes.
      if (nested) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "a nested template cannot hold another template");
      if (a.ulValueLen % sizeof(CK_ATTRIBUTE) != 0) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "a template attribute holds CK_ATTRIBUTEs");
      out.emplace_back(a.type, EncodeTemplate(ToTemplate(static_cast<const CK_ATTRIBUTE*>(a.pValue), a.ulValueLen / sizeof(CK_ATTRIBUTE), true)));
      continue;
    }
    const auto* p = static_cast<const uint8_t*>(a.pValue);
    out.emplace_back(a.type, Bytes(p, p + a.ulValueLen));
  }
  return out;
}

void WriteBackIv(CK_MECHANISM* m, const Bytes& iv) {
  if (iv.empty() || m->mechanism != CKM_AES_GCM || m->pParameter == nullptr || m->ulParameterLen != sizeof(CK_GCM_PARAMS)) return;
  CK_GCM_PARAMS g;  // copied: pParameter need not be aligned
  std::memcpy(&g, m->pParameter, sizeof g);
  if (g.pIv != nullptr && g.ulIvLen == iv.size()) std::memcpy(g.pIv, iv.data(), iv.size());
}

MechParams ToMechanism(const CK_MECHANISM* mech) {
  Need(mech);
  MechParams m;
  m.type = mech->mechanism;
  const MechanismInfo* info = FindMechanism(mech->mechanism);
  if (info == nullptr) Fail(CKR_MECHANISM_INVALID, "unknown mechanism");
  switch (info->params) {
    case ParamKind::kNone:
      break;  // a parameter given to a mechanism that takes none is ignored, as most tokens do
    case ParamKind::kIv16:
      if (mech->pParameter == nullptr || mech->ulParameterLen != 16) Fail(CKR_MECHANISM_PARAM_INVALID, "the IV must be 16 bytes");
      m.iv = Bytes(static_cast<const CK_BYTE*>(mech->pParameter), static_cast<const CK_BYTE*>(mech->pParameter) + 16);
      break;
    case ParamKind::kIv8:
      if (mech->pParameter == nullptr || mech->ulParameterLen != 8) Fail(CKR_MECHANISM_PARAM_INVALID, "the IV must be 8 bytes");
      m.iv = Bytes(static_cast<const CK_BYTE*>(mech->pParameter), static_cast<const CK_BYTE*>(mech->pParameter) + 8);
      break;
    case ParamKind::kGcm: {
      if (mech->pParameter == nullptr && mech->mechanism == CKM_CLOUDHSM_AES_GCM) break;
      // PKCS#11 2.40's headers had no ulIvBits; programs built with them (and Java's SunPKCS11,
      // which tries both) pass the shorter structure.
      CK_GCM_PARAMS g{};
      if (mech->pParameter != nullptr && mech->ulParameterLen == sizeof(CK_GCM_PARAMS_V240)) {
        auto old = Param<CK_GCM_PARAMS_V240>(mech);
        g = {old.pIv, old.ulIvLen, old.ulIvLen * 8, old.pAAD, old.ulAADLen, old.ulTagBits};
      } else {
        g = Param<CK_GCM_PARAMS>(mech);
      }
      if (g.pIv != nullptr) m.iv = Optional(g.pIv, g.ulIvLen);
      if (auto aad = Optional(g.pAAD, g.ulAADLen)) m.aad = std::make_shared<const Bytes>(std::move(*aad));
      m.tag_bits = g.ulTagBits;
      break;
    }
    case ParamKind::kCtr: {
      const auto& c = Param<CK_AES_CTR_PARAMS>(mech);
      m.counter_bits = c.ulCounterBits;
      m.iv = Bytes(c.cb, c.cb + 16);
      break;
    }
    case ParamKind::kOaep:
      Oaep(Param<CK_RSA_PKCS_OAEP_PARAMS>(mech), m);
      break;
    case ParamKind::kPss: {
      const auto& p = Param<CK_RSA_PKCS_PSS_PARAMS>(mech);
      m.hash_alg = p.hashAlg;
      m.mgf = p.mgf;
      m.salt_len = p.sLen;
      break;
    }
    case ParamKind::kEcdh: {
      const auto& e = Param<CK_ECDH1_DERIVE_PARAMS>(mech);
      m.kdf = e.kdf;
      m.shared_data = Optional(e.pSharedData, e.ulSharedDataLen);
      m.public_data = Optional(e.pPublicData, e.ulPublicDataLen);
      break;
    }
    case ParamKind::kMacLength:
      m.mac_length = Param<CK_MAC_GENERAL_PARAMS>(mech);
      break;
    case ParamKind::kRsaAesWrap: {
      const auto& w = Param<CK_RSA_AES_KEY_WRAP_PARAMS>(mech);
      m.aes_key_bits = w.ulAESKeyBits;
      if (w.pOAEPParams == nullptr) Fail(CKR_MECHANISM_PARAM_INVALID, "RSA-AES wrap needs OAEP parameters");
      Oaep(*w.pOAEPParams, m);
      break;
    }
    case ParamKind::kHkdf: {
      const auto& h = Param<CK_HKDF_PARAMS>(mech);
      m.extract = h.bExtract != 0;
      m.expand = h.bExpand != 0;
      m.hash_alg = h.prfHashMechanism;
      m.salt_type = h.ulSaltType;
      m.salt = Optional(h.pSalt, h.ulSaltLen);
      m.salt_key = h.hSaltKey;
      m.info = Optional(h.pInfo, h.ulInfoLen);
      break;
    }
    case ParamKind::kKbkdf:
      ReadKbkdfParams(mech, m);
      break;
  }
  return m;
}

void Pad(CK_UTF8CHAR* dst, std::size_t width, const std::string& text) {
  std::memset(dst, ' ', width);
  std::memcpy(dst, text.data(), std::min(width, text.size()));
}

}  // namespace hsm::p11
