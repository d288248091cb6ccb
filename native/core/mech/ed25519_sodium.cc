// native/core/mech/ed25519_sodium.cc
#include "ed25519_sodium.h"

#include <openssl/core_names.h>

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
  OSSL_PARAM halves[] = {OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, sk.data(), 32),
                         OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, sk.data() + 32, 32), OSSL_PARAM_construct_end()};
  if (EVP_PKEY_get_params(pkey, halves) != 1 || halves[0].return_size != 32 || halves[1].return_size != 32) {
    ossl::Raise(CKR_GENERAL_ERROR, "Ed25519 key");
  }
  if (crypto_sign_detached(sig, nullptr, msg.data, msg.size, sk.data()) != 0) Fail(CKR_GENERAL_ERROR, "Ed25519 sign");
  return true;
}

ossl::Pkey Generate() {
  Ready();
  SecureBytes seed(crypto_sign_SEEDBYTES), sk(crypto_sign_SECRETKEYBYTES);  // locked, wiped when freed
  uint8_t pub[crypto_sign_PUBLICKEYBYTES];
  ossl::RandomInto(seed.data(), seed.size());
  if (crypto_sign_seed_keypair(pub, sk.data(), seed.data()) != 0) Fail(CKR_GENERAL_ERROR, "Ed25519 key generation");
  // Both halves given, so OpenSSL takes the public key as computed rather than computing it again.
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, seed.data(), seed.size()),
                         OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub), OSSL_PARAM_construct_end()};
  EVP_PKEY* k = nullptr;
  if (EVP_PKEY_fromdata(ossl::FromDataContext("ED25519"), &k, EVP_PKEY_KEYPAIR, params) != 1) ossl::Raise(CKR_GENERAL_ERROR, "Ed25519 key");
  return ossl::AdoptPkey(k);
}

#else

const char* Implementation() { return "OpenSSL"; }
bool Sign(EVP_PKEY*, ByteView, uint8_t*) { return false; }
ossl::Pkey Generate() { return ossl::Pkey(); }

#endif

}  // namespace hsm::ed25519
