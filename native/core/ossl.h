// native/core/ossl.h
//
// OpenSSL 3 RAII wrappers and the one place OpenSSL errors become hsm::Error.
// Algorithms are fetched once and cached (an implicit fetch on every call costs more than a small
// AES-GCM). Knows nothing of PKCS#11 objects or mechanisms beyond their CKR_* codes.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <memory>
#include <string>

#include "bytes.h"
#include "error.h"

namespace hsm::ossl {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct PkeyCtxFree { void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); } };
struct CipherCtxFree { void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); } };
struct MacCtxFree { void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); } };
struct KdfCtxFree { void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); } };
struct BnFree { void operator()(BIGNUM* p) const { BN_clear_free(p); } };

using Pkey = std::shared_ptr<EVP_PKEY>;  // shared: key objects are immutable and shared by ref
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;

inline Pkey AdoptPkey(EVP_PKEY* p) { return Pkey(p, PkeyFree()); }

// Drains the OpenSSL error queue into the detail text and throws Error(rv, "<what>: <reason>").
[[noreturn]] void Raise(CK_RV rv, const char* what);
// Drains the queue without throwing (after an expected failure such as a bad tag).
void ClearErrors();
// Throws CKR_HOST_MEMORY when an allocation returned null.
template <typename T>
T* Check(T* p, const char* what) {
  if (p == nullptr) Raise(CKR_HOST_MEMORY, what);
  return p;
}

// Cached algorithm handles; names as OpenSSL spells them ("AES-256-GCM", "SHA2-256", "HMAC").
const EVP_CIPHER* Cipher(const std::string& name);
const EVP_MD* Md(const std::string& name);
EVP_MAC* Mac(const std::string& name);
EVP_KDF* Kdf(const std::string& name);

// A fresh context for the key; the caller decides what operation to init.
PkeyCtx NewPkeyCtx(EVP_PKEY* key);
// A provider context for a key type ("RSA", "EC", "ED25519") to import or generate keys with. It is
// asked for by the algorithm's OID, a name the providers know and the legacy ENGINE table does not:
// in a process where an ENGINE claims the type (libp11's, which loads this module), asking by "EC"
// would give that ENGINE's legacy method, which cannot import key data.
PkeyCtx NewPkeyCtxForType(const char* type);
// A from-data context for a key type, made and initialized once per thread and then reused (making
// one by name is the costly part of importing a key). It holds no key.
EVP_PKEY_CTX* FromDataContext(const char* type);

// EVP_CipherUpdate over any length: OpenSSL takes an int, so input goes in pieces of 1 GiB (whole
// blocks); `out` has room for in.size + one block. Returns the bytes written. With out == nullptr,
// the input is additional authenticated data (AEAD modes).
std::size_t CipherUpdate(EVP_CIPHER_CTX* ctx, uint8_t* out, ByteView in);

// OpenSSL's secure heap, where it keeps private-key BIGNUMs (EC scalars, RSA d, p, q, ...): locked
// and excluded from core dumps. Made once if the process has none yet (Node's --secure-heap or the
// host application may have made one), sized a quarter of RLIMIT_MEMLOCK, 64 KiB to 16 MiB.
void EnsureSecureHeap();
// Makes every OpenSSL free wipe what it frees (CRYPTO_set_mem_functions), for a copy of OpenSSL this
// process owns alone (the addon's static one): OpenSSL 3.0 frees some secret temporaries uncleared
// (rsa_chk.c's BN_free of a recomputed qi; OSSL_PARAM blocks of non-secure numbers). Returns false,
// changing nothing, when that OpenSSL has allocated already (it then belongs to the host too).
bool WipeOpenSslFrees();

Bn BnFromBytes(ByteView big_endian);  // CKR_ATTRIBUTE_VALUE_INVALID over 2^31 bytes
Bn SecureBnFromBytes(ByteView big_endian);  // the same, in OpenSSL's secure heap (a secret number)
Bytes BnToBytes(const BIGNUM* bn);
Bytes PkeyBnParam(EVP_PKEY* key, const char* name);  // public values only (n, e)
Bytes RandomBytes(std::size_t n);
void RandomInto(uint8_t* out, std::size_t n);

}  // namespace hsm::ossl
