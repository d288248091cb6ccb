// native/core/mech/ecdh.cc
//
// CKM_ECDH1_DERIVE (PKCS#11 v3.0 §2.3.16, CK_ECDH1_DERIVE_PARAMS): Z = x-coordinate of d·Q, with the
// peer point validated on the curve first; KDF CKD_NULL (Z, truncated to the requested length,
// leftmost bytes) or ANSI X9.63 with SHA-1..SHA-512 over the shared data.
#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "../keys.h"
#include "mechanism.h"

namespace hsm {

namespace {

const char* HashOfKdf(CK_ULONG kdf) {
  switch (kdf) {
    case CKD_SHA1_KDF: return "SHA1";
    case CKD_SHA224_KDF: return "SHA2-224";
    case CKD_SHA256_KDF: return "SHA2-256";
    case CKD_SHA384_KDF: return "SHA2-384";
    case CKD_SHA512_KDF: return "SHA2-512";
    default: Fail(CKR_MECHANISM_PARAM_INVALID, "kdf must be CKD_NULL or CKD_SHA{1,224,256,384,512}_KDF");
  }
}

SecureBytes SharedSecret(const Object& base, ByteView peer_encoded) {
  Bytes point = UnwrapEcPoint(*base.curve, peer_encoded);
  ossl::Pkey peer = EcPublicFromPoint(*base.curve, point, CKR_MECHANISM_PARAM_INVALID, base.pkey.get());
  ossl::PkeyCtx ctx = ossl::NewPkeyCtx(base.pkey.get());
  SecureBytes z(base.curve->field_bytes);
  std::size_t len = z.size();
  if (EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 1) != 1) {
    ossl::Raise(CKR_MECHANISM_PARAM_INVALID, "ECDH peer public key is invalid");
  }
  if (EVP_PKEY_derive(ctx.get(), z.data(), &len) != 1 || len != z.size()) ossl::Raise(CKR_GENERAL_ERROR, "ECDH derive");
  return z;
}

SecureBytes Ecdh(const Object& base, const MechParams& p, std::size_t len) {
  CK_ULONG kdf = Need(p.kdf, "kdf");
  const Bytes& pub = Need(p.public_data, "publicData");
  SecureBytes z = SharedSecret(base, pub);
  if (kdf == CKD_NULL) {
    if (p.shared_data && !p.shared_data->empty()) Fail(CKR_MECHANISM_PARAM_INVALID, "CKD_NULL takes no shared data");
    if (len == 0 || len == z.size()) return z;
    if (len > z.size()) Fail(CKR_KEY_SIZE_RANGE, "requested key is longer than the shared secret");
    return SecureBytes(ByteView(z.data(), len));
  }
  const char* hash = HashOfKdf(kdf);
  if (len == 0) Fail(CKR_TEMPLATE_INCOMPLETE, "CKA_VALUE_LEN is required with an X9.63 KDF");
  ossl::KdfCtx ctx(ossl::Check(EVP_KDF_CTX_new(ossl::Kdf("X963KDF")), "EVP_KDF_CTX_new"));
  std::string md = hash;
  Bytes info = p.shared_data.value_or(Bytes{});
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md.data(), 0),
                         OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z.data(), z.size()),
                         OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
                         OSSL_PARAM_construct_end()};
  SecureBytes out(len);
  if (EVP_KDF_derive(ctx.get(), out.data(), len, params) != 1) ossl::Raise(CKR_GENERAL_ERROR, "X9.63 KDF");
  return out;
}

}  // namespace

void RegisterEcdh(std::vector<MechanismInfo>& r) {
  r.push_back({.type = CKM_ECDH1_DERIVE, .name = "CKM_ECDH1_DERIVE",
               .flags = CKF_DERIVE | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS | CKF_EC_COMPRESS, .min_key = 224,
               .max_key = 521, .key_types = KeyTypeBit(CKK_EC), .params = ParamKind::kEcdh, .multipart = false, .derive = Ecdh});
}

}  // namespace hsm
