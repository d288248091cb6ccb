// native/core/keys.cc
// Key material ⇄ attributes with OpenSSL 3's provider-neutral EVP_PKEY_fromdata / get_param API.
#include "keys.h"
#include "pkcs8.h"
#include "rsa_check.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <cstring>
#include <string>

namespace hsm {

namespace {

struct ParamBldFree { void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); } };
struct ParamFree { void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); } };
struct GroupFree { void operator()(EC_GROUP* p) const { EC_GROUP_free(p); } };
struct PointFree { void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); } };

using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using Params = std::unique_ptr<OSSL_PARAM[], ParamFree>;

// `like`, when given, is a key of the same algorithm whose key manager is reused (no name lookup).
ossl::Pkey FromData(const char* alg, OSSL_PARAM_BLD* bld, int selection, CK_RV rv_if_bad, EVP_PKEY* like = nullptr) {
  Params params(ossl::Check(OSSL_PARAM_BLD_to_param(bld), "OSSL_PARAM_BLD_to_param"));
  ossl::PkeyCtx ctx = like != nullptr ? ossl::NewPkeyCtx(like) : ossl::NewPkeyCtxForType(alg);
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1 || EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) != 1) {
    ossl::Raise(rv_if_bad, "key material rejected");
  }
  return ossl::AdoptPkey(key);
}

// A number pushed to a parameter builder; a secret one lives in the secure heap (and so does the
// parameter block built from it, and the key's own copy made from that).
void PushBn(OSSL_PARAM_BLD* bld, const char* name, ByteView v, std::vector<ossl::Bn>& keep, bool secret = false) {
  keep.push_back(secret ? ossl::SecureBnFromBytes(v) : ossl::BnFromBytes(v));
  BN_set_flags(keep.back().get(), BN_FLG_CONSTTIME);
  if (OSSL_PARAM_BLD_push_BN(bld, name, keep.back().get()) != 1) ossl::Raise(CKR_HOST_MEMORY, "OSSL_PARAM_BLD_push_BN");
}

// Takes a secret component out of the template (it must not remain an attribute).
Bytes TakeSecret(Attributes& tmpl, CK_ATTRIBUTE_TYPE t) {
  Bytes v = tmpl.Get(t);
  tmpl.Erase(t);
  return v;
}

// Consistency checks on key material that came from outside (import, unwrap): OpenSSL's check of
// the public key (RSA: odd modulus without small factors, odd e > 1; EC: a point on the curve, not
// infinity), and for private keys the pair — EC: OpenSSL's check (d in range and matching the
// point); RSA: a pairwise test here, its numbers having been checked where they were read
// (rsa_check.h: n = pq, the CRT values, d inverting e).
// `rsa_factors_checked`: an RSA key whose p and q CheckRsaNumbers has seen: n = p·q with both
// factors of 256 bits or more needs no public check (whose Miller–Rabin test of n is most of an
// import's cost).
void CheckKeyMaterial(EVP_PKEY* key, bool has_private, CK_RV rv, bool rsa_factors_checked = false) {
  ossl::PkeyCtx ctx = ossl::NewPkeyCtx(key);
  bool ok = rsa_factors_checked || EVP_PKEY_public_check(ctx.get()) == 1;
  if (ok && has_private) {
    if (!EVP_PKEY_is_a(key, "RSA")) {
      ok = EVP_PKEY_check(ctx.get()) == 1;
    } else {
      // (m^e)^d = m for a random m < n, with the raw RSA operation: d is the inverse of e.
      Bytes n = ossl::PkeyBnParam(key, OSSL_PKEY_PARAM_RSA_N);
      Bytes m = ossl::RandomBytes(n.size());
      m[0] = 0;
      Bytes c(n.size()), back(n.size());
      std::size_t clen = c.size(), blen = back.size();
      ossl::PkeyCtx enc = ossl::NewPkeyCtx(key), dec = ossl::NewPkeyCtx(key);
      ok = EVP_PKEY_encrypt_init(enc.get()) == 1 && EVP_PKEY_CTX_set_rsa_padding(enc.get(), RSA_NO_PADDING) == 1 &&
           EVP_PKEY_encrypt(enc.get(), c.data(), &clen, m.data(), m.size()) == 1 && EVP_PKEY_decrypt_init(dec.get()) == 1 &&
           EVP_PKEY_CTX_set_rsa_padding(dec.get(), RSA_NO_PADDING) == 1 && EVP_PKEY_decrypt(dec.get(), back.data(), &blen, c.data(), clen) == 1 &&
           blen == m.size() && CRYPTO_memcmp(back.data(), m.data(), m.size()) == 0;
    }
  }
  if (!ok) {
    ossl::ClearErrors();
    Fail(rv, has_private ? "the private key is not consistent (OpenSSL's key check failed)" : "the public key is not valid (OpenSSL's key check failed)");
  }
}

void RsaMaterial(Object& obj, Attributes& tmpl) {
  ParamBld bld(ossl::Check(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new"));
  std::vector<ossl::Bn> keep;
  PushBn(bld.get(), OSSL_PKEY_PARAM_RSA_N, tmpl.Get(CKA_MODULUS), keep);
  PushBn(bld.get(), OSSL_PKEY_PARAM_RSA_E, tmpl.Get(CKA_PUBLIC_EXPONENT), keep);
  int selection = EVP_PKEY_PUBLIC_KEY;
  bool factors_checked = false;
  if (obj.cls == CKO_PRIVATE_KEY) {
    selection = EVP_PKEY_KEYPAIR;
    PushBn(bld.get(), OSSL_PKEY_PARAM_RSA_D, TakeSecret(tmpl, CKA_PRIVATE_EXPONENT), keep, true);
    const CK_ATTRIBUTE_TYPE crt[] = {CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT};
    const char* names[] = {OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
                           OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    int present = 0;
    for (auto t : crt) present += tmpl.Has(t) ? 1 : 0;
    if (present != 0 && present != 5) Fail(CKR_TEMPLATE_INCOMPLETE, "RSA CRT components must be given all together or not at all");
    for (int i = 0; i < present; ++i) PushBn(bld.get(), names[i], TakeSecret(tmpl, crt[i]), keep, true);
    bool factors = keep.size() == 8;
    auto at = [&](std::size_t i) -> const BIGNUM* { return factors ? keep[i].get() : nullptr; };
    CheckRsaNumbers({keep[0].get(), keep[1].get(), keep[2].get(), at(3), at(4), at(5), at(6), at(7)}, CKR_ATTRIBUTE_VALUE_INVALID);
    factors_checked = factors;
  }
  obj.pkey = FromData("RSA", bld.get(), selection, CKR_ATTRIBUTE_VALUE_INVALID);
  int bits = EVP_PKEY_get_bits(obj.pkey.get());
  if (bits < 1024 || bits > 16384) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "RSA modulus must be 1024..16384 bits");
  Bytes e = ossl::PkeyBnParam(obj.pkey.get(), OSSL_PKEY_PARAM_RSA_E);
  // An odd e >= 3: legacy e = 3 keys still verify (Wycheproof has them); the key checks below refuse
  // a modulus with small factors and a d that does not invert e.
  if (e.empty() || (e.back() & 1) == 0 || (e.size() == 1 && e[0] < 3)) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "RSA public exponent must be odd and at least 3");
  CheckKeyMaterial(obj.pkey.get(), obj.cls == CKO_PRIVATE_KEY, CKR_ATTRIBUTE_VALUE_INVALID, factors_checked);
}

void EcMaterial(Object& obj, Attributes& tmpl) {
  const Curve& c = CurveFromParams(tmpl.Get(CKA_EC_PARAMS));
  if (c.key_type != obj.key_type) Fail(CKR_TEMPLATE_INCONSISTENT, std::string("CKA_EC_PARAMS names ") + c.pretty + ", which is not a curve of this key type");
  obj.curve = &c;
  if (c.key_type == CKK_EC_EDWARDS) {
    if (obj.cls == CKO_PRIVATE_KEY) {
      Bytes seed = TakeSecret(tmpl, CKA_VALUE);
      if (seed.size() != c.field_bytes) Fail(CKR_ATTRIBUTE_VALUE_INVALID, "Ed25519 private value must be 32 bytes");
      EVP_PKEY* k = EVP_PKEY_new_raw_private_key_ex(nullptr, c.name, nullptr, seed.data(), seed.size());
      if (k == nullptr) ossl::Raise(CKR_ATTRIBUTE_VALUE_INVALID, "Ed25519 private key");
      obj.pkey = ossl::AdoptPkey(k);
    } else {
      Bytes pt = UnwrapEcPoint(c, tmpl.Get(CKA_EC_POINT));
      EVP_PKEY* k = EVP_PKEY_new_raw_public_key_ex(nullptr, c.name, nullptr, pt.data(), pt.size());
      if (k == nullptr) ossl::Raise(CKR_ATTRIBUTE_VALUE_INVALID, "Ed25519 public key");
      obj.pkey = ossl::AdoptPkey(k);
    }
    return;
  }
  if (obj.cls == CKO_PRIVATE_KEY) {
    Bytes d = TakeSecret(tmpl, CKA_VALUE);
    ossl::Bn priv = ossl::BnFromBytes(d);
    BN_set_flags(priv.get(), BN_FLG_CONSTTIME);
    Bytes pub = EcPublicPointFor(c, priv.get());
    ParamBld bld(ossl::Check(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new"));
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c.name, 0);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
    obj.pkey = FromData("EC", bld.get(), EVP_PKEY_KEYPAIR, CKR_ATTRIBUTE_VALUE_INVALID);
  } else {
    Bytes pt = UnwrapEcPoint(c, tmpl.Get(CKA_EC_POINT));
    obj.pkey = EcPublicFromPoint(c, pt, CKR_ATTRIBUTE_VALUE_INVALID);
  }
  CheckKeyMaterial(obj.pkey.get(), obj.cls == CKO_PRIVATE_KEY, CKR_ATTRIBUTE_VALUE_INVALID);
}

}  // namespace

Bytes EcPublicPointFor(const Curve& c, const BIGNUM* priv) {
  std::unique_ptr<EC_GROUP, GroupFree> group(ossl::Check(EC_GROUP_new_by_curve_name(c.nid), "EC_GROUP_new_by_curve_name"));
  if (BN_is_zero(priv) || BN_is_negative(priv) || BN_cmp(priv, EC_GROUP_get0_order(group.get())) >= 0) {
    Fail(CKR_ATTRIBUTE_VALUE_INVALID, "EC private value must be in [1, n-1]");
  }
  std::unique_ptr<EC_POINT, PointFree> pt(ossl::Check(EC_POINT_new(group.get()), "EC_POINT_new"));
  if (EC_POINT_mul(group.get(), pt.get(), priv, nullptr, nullptr, nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EC_POINT_mul");
  Bytes out(2 * c.field_bytes + 1);
  if (EC_POINT_point2oct(group.get(), pt.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), nullptr) != out.size()) {
    ossl::Raise(CKR_GENERAL_ERROR, "EC_POINT_point2oct");
  }
  return out;
}

void CheckSecretLength(CK_KEY_TYPE kt, std::size_t n, CK_RV rv) {
  if (kt == CKK_AES && n != 16 && n != 24 && n != 32) Fail(rv, "an AES key is 16, 24 or 32 bytes");
  if (kt == CKK_GENERIC_SECRET && (n < 1 || n > 800)) Fail(rv, "a generic secret is 1..800 bytes");
  if (kt == CKK_DES3 && n != 24) Fail(rv, "a DES3 key is 24 bytes");
}

void MaterialFromTemplate(Object& obj, Attributes& tmpl) {
  if (obj.cls == CKO_PRIVATE_KEY && tmpl.Has(CKA_SEALHSM_PKCS8)) {
    // The whole key in one PKCS#8 blob, parsed here: no component ever sits in a caller's buffers.
    for (CK_ATTRIBUTE_TYPE part : {CKA_MODULUS, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_VALUE}) {
      if (tmpl.Has(part)) Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_SEALHSM_PKCS8 carries the whole key; give no other key material");
    }
    Bytes der = TakeSecret(tmpl, CKA_SEALHSM_PKCS8);
    obj.pkey = DecodePkcs8(der, obj.key_type, &obj.curve, true, CKR_ATTRIBUTE_VALUE_INVALID);
    if (const Bytes* params = tmpl.Find(CKA_EC_PARAMS); params && &CurveFromParams(*params) != obj.curve) {
      Fail(CKR_TEMPLATE_INCONSISTENT, "CKA_EC_PARAMS names another curve than the PKCS#8 key");
    }
    return;
  }
  if (obj.cls == CKO_SECRET_KEY) {
    Bytes v = TakeSecret(tmpl, CKA_VALUE);
    CheckSecretLength(obj.key_type, v.size(), CKR_ATTRIBUTE_VALUE_INVALID);
    obj.secret = SecureBytes(ByteView(v));
    return;
  }
  switch (obj.key_type) {
    case CKK_RSA: RsaMaterial(obj, tmpl); break;
    case CKK_EC:
    case CKK_EC_EDWARDS: EcMaterial(obj, tmpl); break;
    default: Fail(CKR_ATTRIBUTE_VALUE_INVALID, "unsupported key type for this object class");
  }
}

ossl::Pkey EcPublicFromPoint(const Curve& c, ByteView raw_point, CK_RV rv_if_bad, EVP_PKEY* like) {
  ParamBld bld(ossl::Check(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new"));
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c.name, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, raw_point.data, raw_point.size);
  return FromData("EC", bld.get(), EVP_PKEY_PUBLIC_KEY, rv_if_bad, like);
}

namespace {

// The raw public value: the uncompressed EC point, or the 32-byte Ed25519 key.
Bytes RawPublic(const Object& obj) {
  Bytes raw;
  if (obj.key_type == CKK_EC_EDWARDS) {
    raw.resize(obj.curve->field_bytes);
    std::size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(obj.pkey.get(), raw.data(), &len) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EVP_PKEY_get_raw_public_key");
    return raw;
  }
  raw.resize(2 * obj.curve->field_bytes + 1);
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(obj.pkey.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw.data(), raw.size(), &len) != 1) {
    ossl::Raise(CKR_GENERAL_ERROR, "EC public point");
  }
  raw.resize(len);
  return raw;
}

// SubjectPublicKeyInfo (RFC 5280 §4.1, RFC 5480, RFC 8410). For named-curve EC and Ed25519 keys it is
// a fixed header around the point, built directly: OpenSSL 3.0's encoder framework costs more than
// generating a P-256 key. RSA goes through i2d_PUBKEY.
Bytes Spki(const Object& obj, const Bytes& raw) {
  if (obj.key_type == CKK_RSA) {
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(obj.pkey.get(), &der);
    if (n <= 0) ossl::Raise(CKR_GENERAL_ERROR, "i2d_PUBKEY");
    Bytes out(der, der + n);
    OPENSSL_free(der);
    return out;
  }
  static const uint8_t kEcPublicKey[] = {0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
  Bytes alg;
  if (obj.key_type == CKK_EC) Append(alg, ByteView(kEcPublicKey, sizeof kEcPublicKey));
  Append(alg, CurveParams(*obj.curve));  // Ed25519: the algorithm OID itself, no parameters
  auto tlv = [](uint8_t tag, const Bytes& body) {
    Bytes out{tag};
    if (body.size() >= 128) out.push_back(0x81);  // every EC SPKI body here is < 256 bytes
    out.push_back(static_cast<uint8_t>(body.size()));
    Append(out, body);
    return out;
  };
  Bytes bits{0x00};
  Append(bits, raw);
  Bytes body = tlv(0x30, alg);
  Append(body, tlv(0x03, bits));
  return tlv(0x30, body);
}

}  // namespace

Bytes RawPublicKey(const Object& obj) { return RawPublic(obj); }

void SetPublicAttributes(Object& obj, const Bytes* raw_public) {
  EVP_PKEY* k = obj.pkey.get();
  if (obj.key_type == CKK_RSA) {
    obj.attrs.Set(CKA_PUBLIC_KEY_INFO, Spki(obj, {}));
    obj.attrs.Set(CKA_MODULUS, ossl::PkeyBnParam(k, OSSL_PKEY_PARAM_RSA_N));
    obj.attrs.Set(CKA_PUBLIC_EXPONENT, ossl::PkeyBnParam(k, OSSL_PKEY_PARAM_RSA_E));
    if (obj.cls == CKO_PUBLIC_KEY) obj.attrs.SetUlong(CKA_MODULUS_BITS, static_cast<CK_ULONG>(EVP_PKEY_get_bits(k)));
    return;
  }
  if (obj.curve == nullptr) Fail(CKR_GENERAL_ERROR, "EC key without a curve");
  Bytes raw = raw_public != nullptr ? *raw_public : RawPublic(obj);
  obj.attrs.Set(CKA_PUBLIC_KEY_INFO, Spki(obj, raw));
  obj.attrs.Set(CKA_EC_PARAMS, ToBytes(CurveParams(*obj.curve)));
  if (obj.cls == CKO_PUBLIC_KEY) obj.attrs.Set(CKA_EC_POINT, WrapOctetString(raw));
}

void SetSecretAttributes(Object& obj) {
  obj.attrs.SetUlong(CKA_VALUE_LEN, static_cast<CK_ULONG>(obj.secret.size()));
  // CKA_CHECK_VALUE (v3.0 §4.10): AES and DES3 — first 3 bytes of ECB(one zero block); others —
  // first 3 of SHA-1(value).
  unsigned char out[EVP_MAX_MD_SIZE];
  if (obj.key_type == CKK_AES || obj.key_type == CKK_DES3) {
    ossl::CipherCtx ctx(ossl::Check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new"));
    const char* name = obj.key_type == CKK_DES3 ? "DES-EDE3-ECB" : obj.secret.size() == 16 ? "AES-128-ECB" : obj.secret.size() == 24 ? "AES-192-ECB" : "AES-256-ECB";
    int block = obj.key_type == CKK_DES3 ? 8 : 16;
    unsigned char zero[16] = {0};
    int len = 0;
    if (EVP_EncryptInit_ex2(ctx.get(), ossl::Cipher(name), obj.secret.data(), nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 || EVP_EncryptUpdate(ctx.get(), out, &len, zero, block) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "check value");
    }
  } else {
    unsigned int len = 0;
    if (EVP_Digest(obj.secret.data(), obj.secret.size(), out, &len, ossl::Md("SHA1"), nullptr) != 1) ossl::Raise(CKR_GENERAL_ERROR, "check value");
  }
  obj.attrs.Set(CKA_CHECK_VALUE, Bytes(out, out + 3));
  OPENSSL_cleanse(out, sizeof out);
}

ossl::Pkey PublicOnly(const Object& full, const Bytes* raw_public) {
  if (full.key_type == CKK_RSA) {
    ParamBld bld(ossl::Check(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new"));
    std::vector<ossl::Bn> keep;
    PushBn(bld.get(), OSSL_PKEY_PARAM_RSA_N, ossl::PkeyBnParam(full.pkey.get(), OSSL_PKEY_PARAM_RSA_N), keep);
    PushBn(bld.get(), OSSL_PKEY_PARAM_RSA_E, ossl::PkeyBnParam(full.pkey.get(), OSSL_PKEY_PARAM_RSA_E), keep);
    return FromData("RSA", bld.get(), EVP_PKEY_PUBLIC_KEY, CKR_GENERAL_ERROR, full.pkey.get());
  }
  Bytes raw = raw_public != nullptr ? *raw_public : RawPublic(full);
  if (full.key_type == CKK_EC) {
    // Copy the group from the private key rather than rebuilding it by name (the costly part).
    ossl::Pkey pub = ossl::AdoptPkey(ossl::Check(EVP_PKEY_new(), "EVP_PKEY_new"));
    if (EVP_PKEY_copy_parameters(pub.get(), full.pkey.get()) != 1 ||
        EVP_PKEY_set1_encoded_public_key(pub.get(), raw.data(), raw.size()) != 1) {
      ossl::Raise(CKR_GENERAL_ERROR, "EC public key");
    }
    BIGNUM* leaked = nullptr;  // the public object must not carry the private scalar
    if (EVP_PKEY_get_bn_param(pub.get(), OSSL_PKEY_PARAM_PRIV_KEY, &leaked) == 1) {
      BN_clear_free(leaked);
      Fail(CKR_GENERAL_ERROR, "public key copy carries private material");
    }
    ossl::ClearErrors();
    return pub;
  }
  // Edwards: from a from-data context kept per thread (made by name once, not per key).
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, raw.data(), raw.size()), OSSL_PARAM_construct_end()};
  EVP_PKEY* k = nullptr;
  if (EVP_PKEY_fromdata(ossl::FromDataContext(full.curve->name), &k, EVP_PKEY_PUBLIC_KEY, params) != 1) ossl::Raise(CKR_GENERAL_ERROR, "public key");
  return ossl::AdoptPkey(k);
}

SecureBytes EncodePkcs8(const Object& key) { return WritePkcs8(key.pkey.get(), key.curve); }

ossl::Pkey DecodePkcs8(ByteView der, CK_KEY_TYPE expected, const Curve** curve_out, bool validate, CK_RV bad) {
  CK_KEY_TYPE kt = CK_UNAVAILABLE_INFORMATION;
  ossl::Pkey key = ParsePkcs8(der, &kt, curve_out, bad, validate);
  if (kt != expected) Fail(CKR_TEMPLATE_INCONSISTENT, "the key's type does not match CKA_KEY_TYPE");
  if (validate && kt != CKK_EC_EDWARDS) CheckKeyMaterial(key.get(), true, bad, /*rsa_factors_checked=*/kt == CKK_RSA);
  return key;
}

std::shared_ptr<Object> CopyObject(const Object& o) {
  auto c = std::make_shared<Object>();
  c->cls = o.cls;
  c->key_type = o.key_type;
  c->attrs = o.attrs;
  c->secret = o.secret.CloneSecret();
  c->pkey = o.pkey;
  c->curve = o.curve;
  c->creator = o.creator;
  c->owner = o.owner;
  c->shared_with = o.shared_with;
  c->holder = o.holder;
  c->endorsement = o.endorsement;
  c->sealed_away = o.sealed_away;
  return c;
}

CK_ULONG Object::KeySizeForMechanism() const {
  if (cls == CKO_SECRET_KEY) return static_cast<CK_ULONG>(secret.size());
  if (curve != nullptr) return curve->bits;
  if (pkey) return static_cast<CK_ULONG>(EVP_PKEY_get_bits(pkey.get()));
  return 0;
}

}  // namespace hsm
