// native/core/store/state_mac.cc
#include "state_mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "../mech/mac_common.h"
#include "../ossl.h"

namespace hsm::statemac {

SecureBytes DeriveKey(ByteView master) {
  ossl::KdfCtx ctx(ossl::Check(EVP_KDF_CTX_new(ossl::Kdf("HKDF")), "EVP_KDF_CTX_new"));
  char digest[] = "SHA256";
  char info[] = "sealhsm token state v2";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(master.data), master.size),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info - 1),
      OSSL_PARAM_construct_end()};
  SecureBytes out(kMacBytes);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) ossl::Raise(CKR_GENERAL_ERROR, "HKDF (state key)");
  return out;
}

namespace {
uint64_t ReadU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}
void PutU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; i++) out.push_back(static_cast<uint8_t>(v >> (56 - 8 * i)));
}
}  // namespace

Message::Message(const char* domain) { Add(std::string(domain)); }

Message& Message::Add(ByteView field) {
  PutU64(data_, field.size);
  Append(data_, field);
  return *this;
}

Message& Message::Add(const std::string& field) {
  return Add(ByteView(reinterpret_cast<const uint8_t*>(field.data()), field.size()));
}

Message& Message::Add(uint64_t field) {
  Bytes b;
  PutU64(b, field);
  return Add(ByteView(b));
}

Bytes Message::Sign(ByteView key) const {
  if (key.size != kMacBytes) Fail(CKR_USER_NOT_LOGGED_IN, "the token's state key is not open");
  // The HMAC path the mechanisms use: its digest is fetched once per process, not once per row.
  std::unique_ptr<SignOp> op = NewMacOp("HMAC", OSSL_MAC_PARAM_DIGEST, "SHA256", key, kMacBytes);
  op->Update(ByteView(data_));
  return op->Sign();
}

bool Message::Verify(ByteView key, ByteView mac) const {
  Bytes want = Sign(key);
  return mac.size == want.size() && CRYPTO_memcmp(mac.data, want.data(), want.size()) == 0;
}

void XorInto(Bytes& acc, ByteView mac) {
  if (mac.size != kMacBytes || acc.size() != kMacBytes) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed: a row MAC has the wrong length");
  for (std::size_t i = 0; i < kMacBytes; i++) acc[i] ^= mac.data[i];
}

namespace {
Message ManifestMessage(ByteView token_id, const Manifest& m) {
  Message msg("sealhsm manifest v2");
  msg.Add(token_id).Add(static_cast<uint64_t>(m.gen)).Add(static_cast<uint64_t>(m.rows)).Add(m.digest);
  return msg;
}
}  // namespace

Bytes Manifest::Encode(ByteView key, ByteView token_id) const {
  Bytes out;
  PutU64(out, static_cast<uint64_t>(gen));
  PutU64(out, static_cast<uint64_t>(rows));
  Append(out, digest);
  Append(out, ManifestMessage(token_id, *this).Sign(key));
  return out;
}

Manifest Manifest::Decode(ByteView key, ByteView token_id, ByteView blob) {
  if (blob.size != 16 + 2 * kMacBytes) Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for the token manifest: it is malformed");
  Manifest m;
  m.gen = static_cast<int64_t>(ReadU64(blob.data));
  m.rows = static_cast<int64_t>(ReadU64(blob.data + 8));
  m.digest = Bytes(blob.data + 16, blob.data + 16 + kMacBytes);
  if (!ManifestMessage(token_id, m).Verify(key, ByteView(blob.data + 16 + kMacBytes, kMacBytes))) {
    Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for the token manifest: it was edited or comes from another token");
  }
  return m;
}

}  // namespace hsm::statemac
