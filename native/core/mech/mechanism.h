// native/core/mech/mechanism.h
//
// What a mechanism is to core (PKCS#11 v3.0 §5.x function groups): parsed parameters, the
// operation interfaces (cipher, sign/verify, digest), and the registry entry that ties a CKM_*
// number to the functions implementing it. Only mech/registry.cc lists mechanisms.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "../object.h"

namespace hsm {

// How a mechanism's parameter is shaped; the C door parses CK_MECHANISM.pParameter by this.
enum class ParamKind { kNone, kIv16, kIv8, kGcm, kCtr, kOaep, kPss, kEcdh, kMacLength, kRsaAesWrap, kHkdf, kKbkdf };

// Parsed mechanism parameters: a flat bag; each mechanism checks the fields it needs.
struct MechParams {
  CK_MECHANISM_TYPE type = 0;
  std::optional<Bytes> iv;            // CBC IV, GCM IV, CTR counter block
  // GCM additional data, shared by copies of the parameters: it may be gigabytes, copied once.
  std::shared_ptr<const Bytes> aad;
  std::optional<CK_ULONG> tag_bits;   // GCM
  std::optional<CK_ULONG> counter_bits;
  std::optional<CK_ULONG> hash_alg;   // OAEP / PSS / HKDF PRF hash (a CKM_SHA* number)
  std::optional<CK_ULONG> mgf;        // CKG_MGF1_*
  std::optional<CK_ULONG> salt_len;   // PSS
  std::optional<Bytes> source_data;   // OAEP label
  std::optional<CK_ULONG> kdf;        // CKD_* for ECDH
  std::optional<Bytes> shared_data;
  std::optional<Bytes> public_data;   // ECDH peer point
  std::optional<CK_ULONG> mac_length; // *_GENERAL MACs
  std::optional<CK_ULONG> aes_key_bits;  // RSA_AES_KEY_WRAP
  std::optional<bool> extract, expand;   // HKDF
  std::optional<CK_ULONG> salt_type;
  std::optional<Bytes> salt, info;
  std::optional<CK_OBJECT_HANDLE> salt_key;
  std::optional<CK_ULONG> prf;         // SP 800-108: the PRF (a CKM_*_HMAC or CKM_AES_CMAC)
  std::optional<Bytes> context;        // SP 800-108: context (label travels in source_data)
  std::optional<CK_ULONG> dkm_bits;    // SP 800-108: width of the encoded output length L (0 = omit)
  std::optional<bool> kbkdf_separator; // SP 800-108: a 0x00 between label and context (default true)
  std::optional<Bytes> kbkdf_prefix;   // SP 800-108: fixed input before the counter (CloudHSM's 2023 layout)
  bool generate_iv = false;            // set by the token: the token makes the IV (CloudHSM GCM)
  std::size_t value_len = 0;           // set by the token on unwrap: CKA_VALUE_LEN (zero-pad wraps)
};

// Requires a field; CKR_MECHANISM_PARAM_INVALID names it when it is absent.
template <typename T>
const T& Need(const std::optional<T>& v, const char* field) {
  if (!v) Fail(CKR_MECHANISM_PARAM_INVALID, std::string("mechanism parameter '") + field + "' is required");
  return *v;
}

class CipherOp {
 public:
  virtual ~CipherOp() = default;
  // The IV the operation generated itself, if it did (written back to the caller).
  virtual const Bytes* GeneratedIv() const { return nullptr; }
  virtual Bytes Update(ByteView in) = 0;
  virtual Bytes Final() = 0;
  // Single-part: C_Encrypt / C_Decrypt.
  virtual Bytes Once(ByteView in) {
    Bytes out = Update(in);
    Bytes tail = Final();
    Append(out, tail);
    return out;
  }
  // Single-part straight into the caller's memory, for bulk data (no intermediate buffer to copy
  // and wipe). OnceBound: the most OnceInto writes for `in` bytes, or 0 when the operation cannot
  // say before it runs (Token then uses Once). OnceInto returns how many bytes it wrote, and wipes
  // them when it fails (a GCM tag that does not verify must release no plaintext).
  virtual std::size_t OnceBound(std::size_t) const { return 0; }
  // The same for one Update of a multi-part operation (a stream's chunk).
  virtual std::size_t UpdateBound(std::size_t) const { return 0; }
  virtual std::size_t UpdateInto(ByteView in, uint8_t* out) {
    Bytes b = Update(in);
    std::copy(b.begin(), b.end(), out);
    return b.size();
  }
  virtual std::size_t OnceInto(ByteView in, uint8_t* out) {
    Bytes b = Once(in);
    std::copy(b.begin(), b.end(), out);
    return b.size();
  }
};

class SignOp {
 public:
  virtual ~SignOp() = default;
  virtual void Update(ByteView in) = 0;
  virtual Bytes Sign() = 0;
  // Throws CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE; returns normally on success.
  virtual void Verify(ByteView sig) = 0;
};

class DigestOp {
 public:
  virtual ~DigestOp() = default;
  virtual void Update(ByteView in) = 0;
  virtual Bytes Final() = 0;
};

struct KeyGenResult {
  ossl::Pkey pkey;
  const Curve* curve = nullptr;
};

class Token;  // derive functions may need another key of the token (HKDF salt key)

using CipherFactory = std::unique_ptr<CipherOp> (*)(const Object& key, const MechParams& p, bool encrypt);
using SignFactory = std::unique_ptr<SignOp> (*)(const Object& key, const MechParams& p, bool sign);
using DigestFactory = std::unique_ptr<DigestOp> (*)(const MechParams& p);
// Secret key generation: the value, given the template (CKA_VALUE_LEN) and the target key type.
using SecretGen = SecureBytes (*)(const Attributes& tmpl, CK_KEY_TYPE kt);
// `min_rsa_bits`: the profile's smallest RSA key (2048 in CloudHSM; 1024 in the pkcs11 profile).
using PairGen = KeyGenResult (*)(const Attributes& public_tmpl, CK_ULONG min_rsa_bits);
// Derivation: the derived value of `len` bytes (0 = the mechanism's natural length).
using Deriver = SecureBytes (*)(const Object& base, const MechParams& p, std::size_t len);

struct MechanismInfo {
  CK_MECHANISM_TYPE type;
  const char* name;
  CK_FLAGS flags;            // CKF_ENCRYPT | CKF_SIGN | ...
  CK_ULONG min_key, max_key; // PKCS#11 units: bytes for AES/generic, bits for RSA/EC
  unsigned key_types;        // KeyTypeBit() mask of keys this mechanism accepts (0 = none)
  ParamKind params;
  bool multipart;            // Update allowed (false → single-part only)
  CipherFactory cipher = nullptr;
  SignFactory sign = nullptr;
  DigestFactory digest = nullptr;
  SecretGen gen_secret = nullptr;
  CK_KEY_TYPE gen_key_type = CK_UNAVAILABLE_INFORMATION;  // what a generate mechanism produces
  PairGen gen_pair = nullptr;
  Deriver derive = nullptr;
  unsigned family = 0;       // MechFamily bits: which profiles offer it (0 = every profile)
  unsigned wrap_family = 0;  // MechFamily bits: where its CKF_WRAP / CKF_UNWRAP hold (0 = wherever it is offered)
  // A few nanoseconds a byte and no setup to speak of (AES modes, HMAC, CMAC, digests): on small
  // inputs the call is cheaper than handing it to another thread, so doors may run it inline. Set by
  // family in registry.cc (RegisterLight).
  bool light = false;
};

const MechanismInfo* FindMechanism(CK_MECHANISM_TYPE type);
// Whether a profile (its MechFamily bits) offers the mechanism, and the functions it offers it for
// there: every door asks these, so C_GetMechanismInfo says what the token does.
bool OfferedIn(const MechanismInfo& m, unsigned families);
CK_FLAGS FlagsIn(const MechanismInfo& m, unsigned families);
const std::vector<MechanismInfo>& AllMechanisms();

// Each mechanism file adds its entries; registry.cc calls these in one place.
void RegisterAesBlock(std::vector<MechanismInfo>& r);
void RegisterDes3(std::vector<MechanismInfo>& r);
void RegisterAesGcm(std::vector<MechanismInfo>& r);
void RegisterAesMac(std::vector<MechanismInfo>& r);
void RegisterAesKeyWrap(std::vector<MechanismInfo>& r);
void RegisterDigest(std::vector<MechanismInfo>& r);
void RegisterHmac(std::vector<MechanismInfo>& r);
void RegisterRsaPkcs(std::vector<MechanismInfo>& r);
void RegisterRsaPss(std::vector<MechanismInfo>& r);
void RegisterRsaOaep(std::vector<MechanismInfo>& r);
void RegisterRsaAesWrap(std::vector<MechanismInfo>& r);
void RegisterEcdsa(std::vector<MechanismInfo>& r);
void RegisterEddsa(std::vector<MechanismInfo>& r);
void RegisterEcdh(std::vector<MechanismInfo>& r);
void RegisterHkdf(std::vector<MechanismInfo>& r);
void RegisterKeyGen(std::vector<MechanismInfo>& r);
void RegisterCloudHsmWrap(std::vector<MechanismInfo>& r);
void RegisterKbkdf(std::vector<MechanismInfo>& r);

// Shared by mechanisms: hash mechanism number → OpenSSL digest name (CKR_MECHANISM_PARAM_INVALID
// when not a supported hash); MGF1 constant → digest name.
const char* DigestNameForHashMech(CK_MECHANISM_TYPE hash);
const char* DigestNameForMgf(CK_ULONG mgf);

}  // namespace hsm
