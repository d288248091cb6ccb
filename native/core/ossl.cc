// native/core/ossl.cc
// Algorithm cache and error draining for the OpenSSL 3 calls in core.
#include "ossl.h"

#include <malloc.h>
#include <strings.h>

#include <cstdlib>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <mutex>

namespace hsm::ossl {

void ClearErrors() { ERR_clear_error(); }

void Raise(CK_RV rv, const char* what) {
  std::string detail = what;
  unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail += ": ";
    detail += buf;
  }
  ERR_clear_error();
  throw Error(rv, detail);
}

namespace {

// One cache per algorithm kind; fetched objects live for the life of the process.
template <typename T, typename FetchFn>
T* Cached(std::map<std::string, T*>& cache, std::mutex& mu, const std::string& name, FetchFn fetch) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  T* alg = fetch(nullptr, name.c_str(), nullptr);
  if (alg == nullptr) Raise(CKR_MECHANISM_INVALID, ("OpenSSL has no " + name).c_str());
  cache.emplace(name, alg);
  return alg;
}

std::mutex g_mu;
std::map<std::string, EVP_CIPHER*> g_ciphers;
std::map<std::string, EVP_MD*> g_mds;
std::map<std::string, EVP_MAC*> g_macs;
std::map<std::string, EVP_KDF*> g_kdfs;

}  // namespace

const EVP_CIPHER* Cipher(const std::string& name) { return Cached(g_ciphers, g_mu, name, EVP_CIPHER_fetch); }
const EVP_MD* Md(const std::string& name) { return Cached(g_mds, g_mu, name, EVP_MD_fetch); }
EVP_MAC* Mac(const std::string& name) { return Cached(g_macs, g_mu, name, EVP_MAC_fetch); }
EVP_KDF* Kdf(const std::string& name) { return Cached(g_kdfs, g_mu, name, EVP_KDF_fetch); }

PkeyCtx NewPkeyCtx(EVP_PKEY* key) {
  return PkeyCtx(Check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr), "EVP_PKEY_CTX_new_from_pkey"));
}

namespace {

void* WipingMalloc(std::size_t n, const char*, int) { return std::malloc(n); }

void WipingFree(void* p, const char*, int) {
  if (p == nullptr) return;
  explicit_bzero(p, malloc_usable_size(p));
  std::free(p);
}

// realloc moves what it must wipe behind it: a new block, the old one wiped and freed.
void* WipingRealloc(void* p, std::size_t n, const char* file, int line) {
  if (p == nullptr) return std::malloc(n);
  if (n == 0) {
    WipingFree(p, file, line);
    return nullptr;
  }
  std::size_t old = malloc_usable_size(p);
  if (n <= old) return p;  // fits where it is
  void* q = std::malloc(n);
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, old);
  WipingFree(p, file, line);
  return q;
}

}  // namespace

bool WipeOpenSslFrees() { return CRYPTO_set_mem_functions(WipingMalloc, WipingRealloc, WipingFree) == 1; }

void EnsureSecureHeap() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (CRYPTO_secure_malloc_initialized()) return;
    struct rlimit rl {};
    std::size_t want = std::size_t{16} << 20;
    if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && geteuid() != 0) {
      std::size_t quarter = static_cast<std::size_t>(rl.rlim_cur / 4);
      while (want > (std::size_t{64} << 10) && want > quarter) want >>= 1;
    }
    (void)CRYPTO_secure_malloc_init(want, 32);  // 2 = made but not locked: still kept out of core dumps
  });
}

PkeyCtx NewPkeyCtxForType(const char* type) {
  static const std::map<std::string, const char*> kOids = {
      {"RSA", "1.2.840.113549.1.1.1"}, {"EC", "1.2.840.10045.2.1"}, {"ED25519", "1.3.101.112"}};
  auto it = kOids.find(type);
  const char* name = it == kOids.end() ? type : it->second;
  return PkeyCtx(Check(EVP_PKEY_CTX_new_from_name(nullptr, name, nullptr), "EVP_PKEY_CTX_new_from_name"));
}

EVP_PKEY_CTX* FromDataContext(const char* type) {
  thread_local std::map<std::string, PkeyCtx> contexts;
  PkeyCtx& ctx = contexts[type];
  if (!ctx) {
    PkeyCtx made = NewPkeyCtxForType(type);
    if (EVP_PKEY_fromdata_init(made.get()) != 1) Raise(CKR_GENERAL_ERROR, "EVP_PKEY_fromdata_init");
    ctx = std::move(made);
  }
  return ctx.get();
}

std::size_t CipherUpdate(EVP_CIPHER_CTX* ctx, uint8_t* out, ByteView in) {
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  std::size_t written = 0;
  for (std::size_t at = 0; at < in.size; at += kPiece) {
    std::size_t n = std::min(kPiece, in.size - at);
    int len = 0;
    if (EVP_CipherUpdate(ctx, out == nullptr ? nullptr : out + written, &len, in.data + at, static_cast<int>(n)) != 1) {
      Raise(CKR_GENERAL_ERROR, out == nullptr ? "EVP_CipherUpdate(aad)" : "EVP_CipherUpdate");
    }
    written += static_cast<std::size_t>(len);
  }
  return out == nullptr ? 0 : written;
}

Bn SecureBnFromBytes(ByteView v) {
  if (v.size > static_cast<std::size_t>(INT_MAX)) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "a big integer longer than 2^31 bytes");
  Bn bn(Check(BN_secure_new(), "BN_secure_new"));
  if (BN_bin2bn(v.data, static_cast<int>(v.size), bn.get()) == nullptr) Raise(CKR_HOST_MEMORY, "BN_bin2bn");
  return bn;
}

Bn BnFromBytes(ByteView v) {
  if (v.size > static_cast<std::size_t>(INT_MAX)) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "a big integer longer than 2^31 bytes");
  return Bn(Check(BN_bin2bn(v.data, static_cast<int>(v.size), nullptr), "BN_bin2bn"));
}

Bytes BnToBytes(const BIGNUM* bn) {
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}

Bytes PkeyBnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) Raise(CKR_GENERAL_ERROR, name);
  Bn owned(bn);
  return BnToBytes(bn);
}

void RandomInto(uint8_t* out, std::size_t n) {
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  for (std::size_t at = 0; at < n; at += kPiece) {
    if (RAND_bytes(out + at, static_cast<int>(std::min(kPiece, n - at))) != 1) Raise(CKR_DEVICE_ERROR, "RAND_bytes");
  }
}

Bytes RandomBytes(std::size_t n) {
  Bytes out(n);
  RandomInto(out.data(), n);
  return out;
}

}  // namespace hsm::ossl
