// native/core/store/user_keys.h
//
// The keys each user of a persistent token holds (token format 3, docs/design/per-user-sealing.md):
// a user key (UK) only that user's password opens, the seal and MAC keys derived from it, an X25519
// pair others share keys to, an Ed25519 pair that signs the rows the user writes, and for admins the
// token's admin key, which certifies every user's public keys. The primitives are OpenSSL's; this
// file only names what each key is for. Knows nothing of SQLite or sessions.
#pragma once

#include <string>

#include "../bytes.h"
#include "../ossl.h"

namespace hsm::userkeys {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kSignatureBytes = 64;

// Everything a user's UK opens, held while that user is logged in (or an unseal key holds it).
struct UserSecrets {
  std::string name;
  SecureBytes uk;
  SecureBytes seal_key;      // seals the data keys of the objects the user writes, and the user's private halves
  SecureBytes mac_key;       // signs the user's manifest and generation mark
  SecureBytes kx_private;    // X25519
  SecureBytes sign_private;  // Ed25519 seed
  SecureBytes admin_private; // Ed25519 seed of the token's admin key: admins only, else empty
  Bytes kx_public, sign_public;
  ossl::Pkey signer;  // sign_private as an OpenSSL key, made once: a row signature is on every write
};

// A fresh user: a random UK and fresh key pairs (admin_private is left for the caller).
UserSecrets Generate(const std::string& name);
// Derives the seal and MAC keys from `uk` (HKDF-SHA256, one label each).
void DeriveFromUk(UserSecrets& s);
// A new UK for the same user and key pairs (a password change by the user itself).
void RotateUk(UserSecrets& s);

// The private halves, sealed under the user's seal key (AAD names the token and the user), and back.
Bytes SealPrivates(const UserSecrets& s, ByteView token_id);
// Opens them into `s` and checks that they are the halves of the public keys given (a public key
// substituted on disk fails here, at its owner's login). CKR_SEALHSM_INTEGRITY_FAILURE otherwise.
void OpenPrivates(UserSecrets& s, ByteView token_id, ByteView sealed, ByteView kx_public, ByteView sign_public);

// Ed25519.
struct SigningPair {
  SecureBytes seed;
  Bytes public_key;
};
SigningPair NewSigningPair();
Bytes SigningPublic(ByteView seed);
Bytes Sign(ByteView seed, ByteView message);
Bytes Sign(const UserSecrets& s, ByteView message);  // with s.signer
bool Verify(ByteView public_key, ByteView message, ByteView signature);

// A data key for one share recipient: an ephemeral X25519 key, HKDF-SHA256 over the shared secret
// (salted with both public keys) and AES-256-GCM with `aad`. Output: ephemeral public || sealed.
Bytes ShareWrap(ByteView recipient_public, ByteView aad, ByteView data_key);
SecureBytes ShareOpen(const UserSecrets& recipient, ByteView aad, ByteView wrap, const std::string& what);

}  // namespace hsm::userkeys
