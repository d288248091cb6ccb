// native/core/pkcs8.cc
#include "pkcs8.h"

#include "keys.h"
#include "rsa_check.h"

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

namespace hsm {

namespace {

struct P8Free { void operator()(PKCS8_PRIV_KEY_INFO* p) const { PKCS8_PRIV_KEY_INFO_free(p); } };
struct BldFree { void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); } };
struct ParamFree { void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); } };

// One DER element read in place: its tag and a view of its contents.
struct Der {
  const uint8_t* at;
  const uint8_t* end;
  CK_RV bad;

  ByteView Next(int want_tag, int want_class = V_ASN1_UNIVERSAL) {
    const unsigned char* p = at;
    long len = 0;
    int tag = 0, xclass = 0;
    int r = ASN1_get_object(&p, &len, &tag, &xclass, end - at);
    if ((r & 0x80) != 0 || tag != want_tag || xclass != want_class || len < 0 || p + len > end) {
      ossl::ClearErrors();
      Fail(bad, "malformed PKCS#8 private key");
    }
    at = p + len;
    return ByteView(p, static_cast<std::size_t>(len));
  }
  Der Inside(ByteView v) const { return Der{v.data, v.data + v.size, bad}; }
  bool Done() const { return at == end; }
};

// A positive DER INTEGER into a secure-heap BIGNUM (no copy of it anywhere else).
ossl::Bn SecureInteger(Der& d) {
  ByteView v = d.Next(V_ASN1_INTEGER);
  if (v.size == 0 || (v.data[0] & 0x80) != 0 || v.size > 2048) Fail(d.bad, "malformed PKCS#8 private key: a negative or oversized integer");
  ossl::Bn bn(ossl::Check(BN_secure_new(), "BN_secure_new"));
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  if (BN_bin2bn(v.data, static_cast<int>(v.size), bn.get()) == nullptr) ossl::Raise(CKR_HOST_MEMORY, "BN_bin2bn");
  return bn;
}

ossl::Pkey Build(const char* alg, OSSL_PARAM_BLD* bld, CK_RV bad) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(ossl::Check(OSSL_PARAM_BLD_to_param(bld), "OSSL_PARAM_BLD_to_param"));
  ossl::PkeyCtx ctx = ossl::NewPkeyCtxForType(alg);
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1 || EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    ossl::Raise(bad, "PKCS#8 private key rejected");
  }
  return ossl::AdoptPkey(key);
}

// RSAPrivateKey (RFC 8017 A.1.2): version 0, n, e, d, p, q, dp, dq, qi.
ossl::Pkey Rsa(Der body, bool check_numbers) {
  Der seq = body.Inside(body.Next(V_ASN1_SEQUENCE));
  ossl::Bn version = SecureInteger(seq);
  if (!BN_is_zero(version.get())) Fail(body.bad, "only two-prime RSA keys (version 0) are supported");
  const char* names[] = {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
                         OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
                         OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(ossl::Check(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new"));
  std::vector<ossl::Bn> keep;
  for (const char* name : names) {
    keep.push_back(SecureInteger(seq));
    if (OSSL_PARAM_BLD_push_BN(bld.get(), name, keep.back().get()) != 1) ossl::Raise(CKR_HOST_MEMORY, "OSSL_PARAM_BLD_push_BN");
  }
  if (!seq.Done() || !body.Done()) Fail(body.bad, "malformed PKCS#8 RSA key");
  if (check_numbers) {
    CheckRsaNumbers({keep[0].get(), keep[1].get(), keep[2].get(), keep[3].get(), keep[4].get(), keep[5].get(), keep[6].get(), keep[7].get()}, body.bad);
  }
  return Build("RSA", bld.get(), body.bad);
}

// ECPrivateKey (RFC 5915): version 1, the scalar, then optional parameters and public key, which
// are ignored: the curve comes from the algorithm identifier and the point is computed.
ossl::Pkey Ec(Der body, const Curve& curve) {
  Der seq = body.Inside(body.Next(V_ASN1_SEQUENCE));
  ossl::Bn version = SecureInteger(seq);
  if (!BN_is_one(version.get())) Fail(body.bad, "an ECPrivateKey has version 1");
  ByteView d = seq.Next(V_ASN1_OCTET_STRING);
  ossl::Bn priv(ossl::Check(BN_secure_new(), "BN_secure_new"));
  BN_set_flags(priv.get(), BN_FLG_CONSTTIME);
  if (d.size == 0 || d.size > 66 || BN_bin2bn(d.data, static_cast<int>(d.size), priv.get()) == nullptr) Fail(body.bad, "malformed EC private value");
  Bytes pub = EcPublicPointFor(curve, priv.get());
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(ossl::Check(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new"));
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.name, 0);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
  return Build("EC", bld.get(), body.bad);
}

const Curve* CurveOfAlgorithm(const X509_ALGOR* alg) {
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, alg);
  if (ptype != V_ASN1_OBJECT) return nullptr;  // named curves only
  int nid = OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(pval));
  const Curve* c = CurveByName(nid == NID_X9_62_prime256v1 ? "P-256" : OBJ_nid2sn(nid));
  if (c == nullptr && EC_curve_nid2nist(nid) != nullptr) c = CurveByName(EC_curve_nid2nist(nid));
  return c;
}

}  // namespace

std::size_t DerElementLength(ByteView der) {
  const unsigned char* p = der.data;
  long len = 0;
  int tag = 0, xclass = 0;
  int r = ASN1_get_object(&p, &len, &tag, &xclass, static_cast<long>(std::min<std::size_t>(der.size, 1u << 20)));
  ossl::ClearErrors();
  if ((r & 0x80) != 0 || len < 0) return 0;
  std::size_t total = static_cast<std::size_t>(p - der.data) + static_cast<std::size_t>(len);
  return total <= der.size ? total : 0;
}

ossl::Pkey ParsePkcs8(ByteView der, CK_KEY_TYPE* key_type, const Curve** curve, CK_RV bad, bool check_numbers) {
  if (der.size > (std::size_t{1} << 20)) Fail(bad, "a PKCS#8 private key over 1 MiB");
  const unsigned char* p = der.data;
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8Free> p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size)));
  const ASN1_OBJECT* oid = nullptr;
  const unsigned char* body = nullptr;
  int body_len = 0;
  const X509_ALGOR* alg = nullptr;
  if (!p8 || p != der.data + der.size || PKCS8_pkey_get0(&oid, &body, &body_len, &alg, p8.get()) != 1 || body_len < 0) {
    ossl::ClearErrors();
    Fail(bad, "the data is not a PKCS#8 private key");
  }
  Der inner{body, body + body_len, bad};
  *curve = nullptr;
  switch (OBJ_obj2nid(oid)) {
    case NID_rsaEncryption:
      *key_type = CKK_RSA;
      return Rsa(inner, check_numbers);
    case NID_X9_62_id_ecPublicKey:
      *key_type = CKK_EC;
      *curve = CurveOfAlgorithm(alg);
      if (*curve == nullptr) Fail(CKR_CURVE_NOT_SUPPORTED, "the EC key is on an unsupported curve");
      return Ec(inner, **curve);
    case NID_ED25519: {
      *key_type = CKK_EC_EDWARDS;
      *curve = CurveByName("ED25519");
      ByteView seed = inner.Next(V_ASN1_OCTET_STRING);  // CurvePrivateKey (RFC 8410)
      if (seed.size != 32 || !inner.Done()) Fail(bad, "an Ed25519 private key is 32 bytes");
      EVP_PKEY* k = EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, seed.data, seed.size);
      if (k == nullptr) ossl::Raise(bad, "Ed25519 private key");
      return ossl::AdoptPkey(k);
    }
    default:
      Fail(bad, "unsupported PKCS#8 key algorithm (RSA, EC and Ed25519 are)");
  }
}

// ---------------------------------------------------------------- writing

namespace {

// One DER element: header from ASN1_put_object, then the contents, in a SecureBytes of its own.
SecureBytes Element(int tag, std::initializer_list<ByteView> parts, bool constructed = true, int xclass = V_ASN1_UNIVERSAL) {
  std::size_t len = 0;
  for (ByteView p : parts) len += p.size;
  if (len > (std::size_t{1} << 20)) Fail(CKR_GENERAL_ERROR, "PKCS#8 element too large");
  int total = ASN1_object_size(constructed ? 1 : 0, static_cast<int>(len), tag);
  if (total <= 0) ossl::Raise(CKR_GENERAL_ERROR, "ASN1_object_size");
  SecureBytes out(static_cast<std::size_t>(total));
  unsigned char* p = out.data();
  ASN1_put_object(&p, constructed ? 1 : 0, static_cast<int>(len), tag, xclass);
  for (ByteView part : parts) {
    if (part.size > 0) std::memcpy(p, part.data, part.size);
    p += part.size;
  }
  return out;
}

// A DER INTEGER of a non-negative big-endian value.
SecureBytes Integer(ByteView big_endian) {
  std::size_t skip = 0;
  while (skip < big_endian.size && big_endian.data[skip] == 0) ++skip;
  std::size_t n = big_endian.size - skip;
  bool pad = n == 0 || (big_endian.data[skip] & 0x80) != 0;  // a leading zero keeps it positive
  SecureBytes v(n + (pad ? 1 : 0));
  if (pad) v.data()[0] = 0;
  if (n > 0) std::memcpy(v.data() + (pad ? 1 : 0), big_endian.data + skip, n);
  return Element(V_ASN1_INTEGER, {v.view()}, false);
}

SecureBytes SmallInteger(unsigned v) {
  uint8_t b = static_cast<uint8_t>(v);
  return Element(V_ASN1_INTEGER, {ByteView(&b, 1)}, false);
}

Bytes Oid(int nid) {
  const ASN1_OBJECT* o = OBJ_nid2obj(nid);
  int n = i2d_ASN1_OBJECT(o, nullptr);
  if (n <= 0) ossl::Raise(CKR_GENERAL_ERROR, "i2d_ASN1_OBJECT");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_ASN1_OBJECT(o, &p);
  return out;
}

// A key's integer parameter as big-endian bytes in the locked arena, read straight into memory of
// ours: EVP_PKEY_get_bn_param stages the value in a 2 KiB stack buffer it never clears (the last
// private number read, RSA's qi, stayed there byte-reversed, and showed in core dumps).
SecureBytes SecretParam(EVP_PKEY* key, const char* name) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "OSSL_PARAM integers are native-endian; this reads them as little-endian");
  SecureBytes native(static_cast<std::size_t>(EVP_PKEY_get_size(key)) + 8);
  OSSL_PARAM p[2] = {OSSL_PARAM_construct_BN(name, native.data(), native.size()), OSSL_PARAM_construct_end()};
  if (EVP_PKEY_get_params(key, p) != 1 || !OSSL_PARAM_modified(p) || p[0].return_size > native.size()) ossl::Raise(CKR_GENERAL_ERROR, name);
  std::size_t n = p[0].return_size;
  SecureBytes be(n);
  for (std::size_t i = 0; i < n; ++i) be.data()[i] = native.data()[n - 1 - i];
  return be;
}

SecureBytes PrivateKeyInfo(ByteView algorithm, ByteView private_key) {
  SecureBytes version = SmallInteger(0);
  SecureBytes inner = Element(V_ASN1_OCTET_STRING, {private_key}, false);
  return Element(V_ASN1_SEQUENCE, {version.view(), algorithm, inner.view()});
}

SecureBytes RsaInfo(EVP_PKEY* key) {
  const char* names[] = {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
                         OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
                         OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  std::vector<SecureBytes> ints;
  ints.push_back(SmallInteger(0));
  for (const char* name : names) ints.push_back(Integer(SecretParam(key, name).view()));
  std::size_t len = 0;
  for (const auto& i : ints) len += i.size();
  SecureBytes body(len);
  std::size_t at = 0;
  for (const auto& i : ints) std::memcpy(body.data() + at, i.data(), i.size()), at += i.size();
  SecureBytes rsa = Element(V_ASN1_SEQUENCE, {body.view()});
  uint8_t null_param[2] = {V_ASN1_NULL, 0};
  Bytes oid = Oid(NID_rsaEncryption);
  SecureBytes alg = Element(V_ASN1_SEQUENCE, {oid, ByteView(null_param, 2)});
  return PrivateKeyInfo(alg.view(), rsa.view());
}

SecureBytes EcInfo(EVP_PKEY* key, const Curve& curve) {
  SecureBytes priv = SecretParam(key, OSSL_PKEY_PARAM_PRIV_KEY);
  SecureBytes d(curve.field_bytes);  // left-padded with zeros to the field's length
  std::size_t skip = 0;
  while (skip < priv.size() && priv.data()[skip] == 0) ++skip;
  if (priv.size() - skip > d.size()) ossl::Raise(CKR_GENERAL_ERROR, "EC private value");
  std::memcpy(d.data() + d.size() - (priv.size() - skip), priv.data() + skip, priv.size() - skip);
  // Every EC key here holds the point computed from its scalar (generation, import and Ec() above
  // all derive it), so it is read back rather than computed again.
  Bytes pub(2 * curve.field_bytes + 1);
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub.data(), pub.size(), &len) != 1 || len != pub.size()) {
    ossl::Raise(CKR_GENERAL_ERROR, "EC public point");
  }
  Bytes bits(1, 0);  // a BIT STRING with no unused bits
  Append(bits, pub);
  SecureBytes version = SmallInteger(1);
  SecureBytes scalar = Element(V_ASN1_OCTET_STRING, {d.view()}, false);
  SecureBytes point = Element(V_ASN1_BIT_STRING, {ByteView(bits)}, false);
  SecureBytes tagged = Element(1, {point.view()}, true, V_ASN1_CONTEXT_SPECIFIC);
  SecureBytes ec = Element(V_ASN1_SEQUENCE, {version.view(), scalar.view(), tagged.view()});
  Bytes oid = Oid(NID_X9_62_id_ecPublicKey), named = Oid(curve.nid);
  SecureBytes alg = Element(V_ASN1_SEQUENCE, {oid, named});
  return PrivateKeyInfo(alg.view(), ec.view());
}

SecureBytes Ed25519Info(EVP_PKEY* key) {
  SecureBytes seed(32);
  // As a parameter, straight into `seed`: EVP_PKEY_get_raw_private_key goes through an exported
  // parameter array that OpenSSL 3.0 frees without clearing (a copy of the seed in freed heap).
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PRIV_KEY, seed.data(), seed.size(), &len) != 1 || len != 32) {
    ossl::Raise(CKR_GENERAL_ERROR, "Ed25519 private key");
  }
  SecureBytes inner = Element(V_ASN1_OCTET_STRING, {seed.view()}, false);
  Bytes oid = Oid(NID_ED25519);
  SecureBytes alg = Element(V_ASN1_SEQUENCE, {oid});
  return PrivateKeyInfo(alg.view(), inner.view());
}

}  // namespace

SecureBytes WritePkcs8(EVP_PKEY* key, const Curve* curve) {
  if (EVP_PKEY_is_a(key, "RSA")) return RsaInfo(key);
  if (EVP_PKEY_is_a(key, "ED25519")) return Ed25519Info(key);
  if (EVP_PKEY_is_a(key, "EC") && curve != nullptr && curve->nid != 0) return EcInfo(key, *curve);
  Fail(CKR_GENERAL_ERROR, "no PKCS#8 encoding for this key");
}

}  // namespace hsm
