// native/core/store/user_keys.cc
#include "user_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "../ossl.h"
#include "seal.h"
#include "state_mac.h"

namespace hsm::userkeys {

Bytes SignWith(const ossl::Pkey& k, ByteView message);  // below

namespace {

SecureBytes Hkdf(ByteView key, ByteView salt, ByteView info) {
  ossl::KdfCtx ctx(ossl::Check(EVP_KDF_CTX_new(ossl::Kdf("HKDF")), "EVP_KDF_CTX_new"));
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(key.data), key.size);
  if (!salt.empty()) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data), salt.size);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data), info.size);
  params[n] = OSSL_PARAM_construct_end();
  SecureBytes out(kKeyBytes);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) ossl::Raise(CKR_GENERAL_ERROR, "HKDF (user keys)");
  return out;
}

SecureBytes Derive(ByteView uk, const char* label) {
  std::string info = label;
  return Hkdf(uk, ByteView(), ByteView(reinterpret_cast<const uint8_t*>(info.data()), info.size()));
}

ossl::Pkey PrivateKey(const char* type, ByteView raw) {
  EVP_PKEY* k = EVP_PKEY_new_raw_private_key_ex(nullptr, type, nullptr, raw.data, raw.size);
  if (k == nullptr) ossl::Raise(CKR_GENERAL_ERROR, type);
  return ossl::AdoptPkey(k);
}

ossl::Pkey PublicKey(const char* type, ByteView raw) {
  EVP_PKEY* k = EVP_PKEY_new_raw_public_key_ex(nullptr, type, nullptr, raw.data, raw.size);
  if (k == nullptr) {
    ossl::ClearErrors();
    return nullptr;
  }
  return ossl::AdoptPkey(k);
}

Bytes PublicOf(const ossl::Pkey& k) {
  Bytes pub(kKeyBytes);
  std::size_t n = pub.size();
  if (EVP_PKEY_get_raw_public_key(k.get(), pub.data(), &n) != 1 || n != kKeyBytes) ossl::Raise(CKR_GENERAL_ERROR, "raw public key");
  return pub;
}

// A fresh private scalar or seed and its public key.
std::pair<SecureBytes, Bytes> NewPair(const char* type) {
  SecureBytes priv(kKeyBytes);
  ossl::RandomInto(priv.data(), priv.size());
  return {std::move(priv), PublicOf(PrivateKey(type, priv.view()))};
}

SecureBytes X25519(ByteView priv, ByteView peer_public) {
  ossl::Pkey mine = PrivateKey("X25519", priv);
  ossl::Pkey peer = PublicKey("X25519", peer_public);
  if (!peer) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed: a sharing public key is malformed");
  ossl::PkeyCtx ctx = ossl::NewPkeyCtx(mine.get());
  SecureBytes z(kKeyBytes);
  std::size_t len = z.size();
  if (EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 1) != 1 ||
      EVP_PKEY_derive(ctx.get(), z.data(), &len) != 1 || len != z.size()) {
    ossl::ClearErrors();
    Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed: a sharing public key is not usable");
  }
  return z;
}

SecureBytes ShareKey(ByteView z, ByteView eph_public, ByteView recipient_public, ByteView aad) {
  Bytes salt = ToBytes(eph_public);
  Append(salt, recipient_public);
  statemac::Message info("sealhsm share v3");
  info.Add(aad);
  return Hkdf(z, salt, info.bytes());
}

Bytes PrivatesAad(ByteView token_id, const std::string& name) {
  statemac::Message m("sealhsm user privates v3");
  m.Add(token_id).Add(name);
  return m.bytes();
}

}  // namespace

void DeriveFromUk(UserSecrets& s) {
  s.seal_key = Derive(s.uk.view(), "sealhsm user seal v3");
  s.mac_key = Derive(s.uk.view(), "sealhsm user mac v3");
}

UserSecrets Generate(const std::string& name) {
  UserSecrets s;
  s.name = name;
  s.uk = SecureBytes(kKeyBytes);
  ossl::RandomInto(s.uk.data(), s.uk.size());
  DeriveFromUk(s);
  auto kx = NewPair("X25519");
  s.kx_private = std::move(kx.first);
  s.kx_public = std::move(kx.second);
  SigningPair sp = NewSigningPair();
  s.sign_private = std::move(sp.seed);
  s.sign_public = std::move(sp.public_key);
  s.signer = PrivateKey("ED25519", s.sign_private.view());
  return s;
}

void RotateUk(UserSecrets& s) {
  s.uk = SecureBytes(kKeyBytes);
  ossl::RandomInto(s.uk.data(), s.uk.size());
  DeriveFromUk(s);
}

Bytes SealPrivates(const UserSecrets& s, ByteView token_id) {
  SecureBytes plain(kKeyBytes * (s.admin_private.empty() ? 2 : 3));
  std::copy(s.kx_private.data(), s.kx_private.data() + kKeyBytes, plain.data());
  std::copy(s.sign_private.data(), s.sign_private.data() + kKeyBytes, plain.data() + kKeyBytes);
  if (!s.admin_private.empty()) std::copy(s.admin_private.data(), s.admin_private.data() + kKeyBytes, plain.data() + 2 * kKeyBytes);
  return seal::Seal(s.seal_key.view(), PrivatesAad(token_id, s.name), plain.view());
}

void OpenPrivates(UserSecrets& s, ByteView token_id, ByteView sealed, ByteView kx_public, ByteView sign_public) {
  std::string who = "user '" + s.name + "'";
  SecureBytes plain = seal::Open(s.seal_key.view(), PrivatesAad(token_id, s.name), sealed, who + "'s private keys");
  if (plain.size() != 2 * kKeyBytes && plain.size() != 3 * kKeyBytes) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + "'s private keys");
  s.kx_private = SecureBytes(ByteView(plain.data(), kKeyBytes));
  s.sign_private = SecureBytes(ByteView(plain.data() + kKeyBytes, kKeyBytes));
  s.admin_private = plain.size() == 3 * kKeyBytes ? SecureBytes(ByteView(plain.data() + 2 * kKeyBytes, kKeyBytes)) : SecureBytes();
  s.kx_public = PublicOf(PrivateKey("X25519", s.kx_private.view()));
  s.signer = PrivateKey("ED25519", s.sign_private.view());
  s.sign_public = PublicOf(s.signer);
  bool same = kx_public.size == kKeyBytes && sign_public.size == kKeyBytes &&
              CRYPTO_memcmp(kx_public.data, s.kx_public.data(), kKeyBytes) == 0 && CRYPTO_memcmp(sign_public.data, s.sign_public.data(), kKeyBytes) == 0;
  if (!same) {
    Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + who + ": the public keys in its record are not its own (they were replaced on disk)");
  }
}

SigningPair NewSigningPair() {
  auto p = NewPair("ED25519");
  return {std::move(p.first), std::move(p.second)};
}

Bytes SigningPublic(ByteView seed) { return PublicOf(PrivateKey("ED25519", seed)); }

Bytes Sign(ByteView seed, ByteView message) { return SignWith(PrivateKey("ED25519", seed), message); }

Bytes Sign(const UserSecrets& s, ByteView message) {
  if (!s.signer) Fail(CKR_GENERAL_ERROR, "user '" + s.name + "' has no signing key open");
  return SignWith(s.signer, message);
}

Bytes SignWith(const ossl::Pkey& k, ByteView message) {
  ossl::MdCtx ctx(ossl::Check(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
  Bytes sig(kSignatureBytes);
  std::size_t n = sig.size();
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, k.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &n, message.data, message.size) != 1 || n != kSignatureBytes) {
    ossl::Raise(CKR_GENERAL_ERROR, "Ed25519 row signature");
  }
  return sig;
}

bool Verify(ByteView public_key, ByteView message, ByteView signature) {
  if (public_key.size != kKeyBytes || signature.size != kSignatureBytes) return false;
  ossl::Pkey k = PublicKey("ED25519", public_key);
  if (!k) return false;
  ossl::MdCtx ctx(ossl::Check(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
  bool ok = EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, k.get(), nullptr) == 1 &&
            EVP_DigestVerify(ctx.get(), signature.data, signature.size, message.data, message.size) == 1;
  ossl::ClearErrors();
  return ok;
}

Bytes ShareWrap(ByteView recipient_public, ByteView aad, ByteView data_key) {
  auto eph = NewPair("X25519");
  SecureBytes z = X25519(eph.first.view(), recipient_public);
  SecureBytes k = ShareKey(z.view(), eph.second, recipient_public, aad);
  Bytes out = eph.second;
  Append(out, seal::Seal(k.view(), aad, data_key));
  return out;
}

SecureBytes ShareOpen(const UserSecrets& recipient, ByteView aad, ByteView wrap, const std::string& what) {
  if (wrap.size < kKeyBytes) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + what + ": its share is truncated");
  ByteView eph(wrap.data, kKeyBytes);
  SecureBytes z = X25519(recipient.kx_private.view(), eph);
  SecureBytes k = ShareKey(z.view(), eph, recipient.kx_public, aad);
  return seal::Open(k.view(), aad, ByteView(wrap.data + kKeyBytes, wrap.size - kKeyBytes), what);
}

}  // namespace hsm::userkeys
