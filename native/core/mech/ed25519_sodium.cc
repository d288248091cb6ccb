// native/core/mech/ed25519_sodium.cc
#include "ed25519_sodium.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include <string>

#ifdef SEALHSM_SODIUM
#include <sodium.h>
#endif

namespace hsm::ed25519 {

#ifdef SEALHSM_SODIUM

namespace {

void Ready() {
  static const bool ready = sodium_init() >= 0;  // thread-safe once; picks libsodium's implementations
  if (!ready) Fail(CKR_GENERAL_ERROR, "libsodium did not initialize");
}

}  // namespace

const char* Implementation() {
  static const std::string name = std::string("libsodium ") + sodium_version_string();
  return name.c_str();
}

bool Sign(EVP_PKEY* pkey, ByteView msg, uint8_t* sig) {
  Ready();
  SecureBytes sk(crypto_sign_SECRETKEYBYTES);  // seed || public key, libsodium's signing key: locked, wiped
  // Read as parameters, straight into `sk`: EVP_PKEY_get_raw_private_key exports the key through a
  // parameter array that OpenSSL 3.0 frees without clearing, which left seeds in freed heap.
  std::size_t seed_len = 0, pub_len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, sk.data(), 32, &seed_len) != 1 || seed_len != 32 ||
      EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, sk.data() + 32, 32, &pub_len) != 1 || pub_len != 32) {
    ossl::Raise(CKR_GENERAL_ERROR, "Ed25519 key");
  }
  if (crypto_sign_detached(sig, nullptr, msg.data, msg.size, sk.data()) != 0) Fail(CKR_GENERAL_ERROR, "Ed25519 sign");
  return true;
}

ossl::Pkey Generate() {
  Ready();
  SecureBytes seed(crypto_sign_SEEDBYTES), sk(crypto_sign_SECRETKEYBYTES);  // locked, wiped when freed
  uint8_t pub[crypto_sign_PUBLICKEYBYTES];
  if (RAND_priv_bytes(seed.data(), static_cast<int>(seed.size())) != 1) ossl::Raise(CKR_GENERAL_ERROR, "RAND_priv_bytes");
  if (crypto_sign_seed_keypair(pub, sk.data(), seed.data()) != 0) Fail(CKR_GENERAL_ERROR, "Ed25519 key generation");
  // Both halves given, so OpenSSL takes the public key as computed rather than computing it again.
  thread_local ossl::PkeyCtx ctx;
  if (!ctx) {
    ossl::PkeyCtx made = ossl::NewPkeyCtxForType("ED25519");
    if (EVP_PKEY_fromdata_init(made.get()) != 1) ossl::Raise(CKR_GENERAL_ERROR, "Ed25519 key");
    ctx = std::move(made);
  }
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, seed.data(), seed.size()),
                         OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub), OSSL_PARAM_construct_end()};
  EVP_PKEY* k = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &k, EVP_PKEY_KEYPAIR, params) != 1) ossl::Raise(CKR_GENERAL_ERROR, "Ed25519 key");
  return ossl::AdoptPkey(k);
}

#else

const char* Implementation() { return "OpenSSL"; }
bool Sign(EVP_PKEY*, ByteView, uint8_t*) { return false; }
ossl::Pkey Generate() { return ossl::Pkey(); }

#endif

}  // namespace hsm::ed25519
