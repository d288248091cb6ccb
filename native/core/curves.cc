// native/core/curves.cc
// Named-curve table. OIDs: SEC 2 / RFC 5480 (secp*), RFC 8410 (Ed25519).
#include "curves.h"

#include <openssl/obj_mac.h>

#include <cstring>

#include "error.h"

namespace hsm {

namespace {

const uint8_t kP224[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x21};
const uint8_t kP256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
const uint8_t kP384[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};
const uint8_t kP521[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23};
const uint8_t kK256[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A};
const uint8_t kEd25519[] = {0x06, 0x03, 0x2B, 0x65, 0x70};
const uint8_t kEd25519Name[] = {0x13, 0x0C, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};

const Curve kCurves[] = {
    {"P-224", "secp224r1", CKK_EC, kP224, sizeof kP224, NID_secp224r1, 28, 28, 224},
    {"P-256", "secp256r1", CKK_EC, kP256, sizeof kP256, NID_X9_62_prime256v1, 32, 32, 256},
    {"P-384", "secp384r1", CKK_EC, kP384, sizeof kP384, NID_secp384r1, 48, 48, 384},
    {"P-521", "secp521r1", CKK_EC, kP521, sizeof kP521, NID_secp521r1, 66, 66, 521},
    {"secp256k1", "secp256k1", CKK_EC, kK256, sizeof kK256, NID_secp256k1, 32, 32, 256},
    {"ED25519", "edwards25519", CKK_EC_EDWARDS, kEd25519, sizeof kEd25519, 0, 32, 32, 255},
};

bool Equal(ByteView v, const uint8_t* p, std::size_t n) { return v.size == n && std::memcmp(v.data, p, n) == 0; }

}  // namespace

const Curve& CurveFromParams(ByteView v) {
  for (const Curve& c : kCurves) {
    if (Equal(v, c.oid_der, c.oid_der_len)) return c;
  }
  if (Equal(v, kEd25519Name, sizeof kEd25519Name)) return kCurves[5];
  if (v.size >= 2 && v.data[0] == 0x06 && v.data[1] == v.size - 2) {
    Fail(CKR_CURVE_NOT_SUPPORTED, "CKA_EC_PARAMS names a curve sealhsm does not support");
  }
  Fail(CKR_DOMAIN_PARAMS_INVALID, "CKA_EC_PARAMS must be a named curve (DER OBJECT IDENTIFIER)");
}

const Curve* CurveByName(const char* name) {
  for (const Curve& c : kCurves) {
    if (std::strcmp(c.name, name) == 0 || std::strcmp(c.pretty, name) == 0) return &c;
  }
  if (std::strcmp(name, "prime256v1") == 0) return &kCurves[1];
  return nullptr;
}

ByteView CurveParams(const Curve& c) { return ByteView(c.oid_der, c.oid_der_len); }

Bytes UnwrapEcPoint(const Curve& c, ByteView v) {
  auto raw_size_ok = [&](std::size_t n, const uint8_t* p) {
    if (c.key_type == CKK_EC_EDWARDS) return n == c.field_bytes;
    if (n == 2 * c.field_bytes + 1) return p[0] == 0x04;
    if (n == c.field_bytes + 1) return p[0] == 0x02 || p[0] == 0x03;
    return false;
  };
  if (raw_size_ok(v.size, v.data)) return ToBytes(v);
  // DER OCTET STRING with a short (< 128) or one/two-byte long length.
  if (v.size >= 2 && v.data[0] == 0x04) {
    std::size_t hdr = 2, len = v.data[1];
    if (len == 0x81 && v.size >= 3) { len = v.data[2]; hdr = 3; }
    else if (len == 0x82 && v.size >= 4) { len = (std::size_t{v.data[2]} << 8) | v.data[3]; hdr = 4; }
    if (hdr + len == v.size && raw_size_ok(len, v.data + hdr)) return Bytes(v.data + hdr, v.data + v.size);
  }
  Fail(CKR_ATTRIBUTE_VALUE_INVALID, std::string("not an encoded point on ") + c.pretty);
}

Bytes WrapOctetString(ByteView raw) {
  uint8_t hdr[4] = {0x04, 0, 0, 0};
  std::size_t hdr_len;
  if (raw.size < 128) {
    hdr[1] = static_cast<uint8_t>(raw.size);
    hdr_len = 2;
  } else if (raw.size < 256) {
    hdr[1] = 0x81;
    hdr[2] = static_cast<uint8_t>(raw.size);
    hdr_len = 3;
  } else {
    hdr[1] = 0x82;
    hdr[2] = static_cast<uint8_t>(raw.size >> 8);
    hdr[3] = static_cast<uint8_t>(raw.size);
    hdr_len = 4;
  }
  Bytes out(hdr_len + raw.size);
  std::memcpy(out.data(), hdr, hdr_len);
  if (raw.size > 0) std::memcpy(out.data() + hdr_len, raw.data, raw.size);
  return out;
}

}  // namespace hsm
