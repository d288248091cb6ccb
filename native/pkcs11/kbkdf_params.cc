// native/pkcs11/kbkdf_params.cc
//
// CK_SP800_108_KDF_PARAMS (PKCS#11 v3.0 §2.42) and CloudHSM's vendor form of it, read into the
// core's SP 800-108 parameters. The core computes NIST's counter layout with OpenSSL's KBKDF:
// PRF(K, [i]_32 || fixed input || [L]_32). The standard form is accepted when its data parameters
// take that shape (a big-endian 32-bit iteration variable first, byte arrays, an optional 32-bit
// DKM length over the derived key last); CloudHSM's typed form (counter format, label, context,
// DKM format) is label || 0x00 || context; its 2023 form (byte arrays around an iteration variable,
// then a DKM length) is prefix || [i] || suffix || [L]. Anything else is CKR_MECHANISM_PARAM_INVALID. Copies
// every structure out of the caller's memory before reading it (alignment).
#include <cstring>

#include "door.h"

namespace hsm::p11 {

namespace {

template <typename T>
T CopyOut(const void* p, CK_ULONG len, const char* what) {
  if (p == nullptr || len != sizeof(T)) Fail(CKR_MECHANISM_PARAM_INVALID, std::string("SP 800-108: ") + what + " has the wrong size");
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::vector<CK_PRF_DATA_PARAM> DataParams(const CK_PRF_DATA_PARAM* p, CK_ULONG n) {
  if (n == 0 || n > 64 || p == nullptr) Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: 1..64 data parameters are needed");
  std::vector<CK_PRF_DATA_PARAM> out(n);
  std::memcpy(out.data(), p, n * sizeof(CK_PRF_DATA_PARAM));
  return out;
}

Bytes ValueOf(const CK_PRF_DATA_PARAM& d) {
  if (d.ulValueLen > 0 && d.pValue == nullptr) Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: a byte array points to NULL");
  const auto* b = static_cast<const uint8_t*>(d.pValue);
  return d.ulValueLen == 0 ? Bytes{} : Bytes(b, b + d.ulValueLen);
}

void Standard(const CK_MECHANISM* mech, MechParams& m) {
  auto k = CopyOut<CK_SP800_108_KDF_PARAMS>(mech->pParameter, mech->ulParameterLen, "CK_SP800_108_KDF_PARAMS");
  if (k.ulAdditionalDerivedKeys != 0) Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: additional derived keys are not offered");
  m.prf = k.prfType;
  std::vector<CK_PRF_DATA_PARAM> data = DataParams(k.pDataParams, k.ulNumberOfDataParams);
  auto counter = CopyOut<CK_SP800_108_COUNTER_FORMAT>(data[0].pValue, data[0].ulValueLen, "the iteration variable's format");
  if (data[0].type != CK_SP800_108_ITERATION_VARIABLE || counter.bLittleEndian || counter.ulWidthInBits != 32) {
    Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: the first data parameter must be a big-endian 32-bit iteration variable");
  }
  m.counter_bits = 32;
  m.dkm_bits = 0;
  Bytes fixed;
  for (std::size_t i = 1; i < data.size(); i++) {
    if (data[i].type == CK_SP800_108_BYTE_ARRAY) {
      Append(fixed, ValueOf(data[i]));
    } else if (data[i].type == CK_SP800_108_DKM_LENGTH && i + 1 == data.size()) {
      auto dkm = CopyOut<CK_SP800_108_DKM_LENGTH_FORMAT>(data[i].pValue, data[i].ulValueLen, "the DKM length format");
      if (dkm.dkmLengthMethod != CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS || dkm.bLittleEndian || dkm.ulWidthInBits != 32) {
        Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: the DKM length must be big-endian, 32 bits, over the derived key");
      }
      m.dkm_bits = 32;
    } else {
      Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: after the iteration variable only byte arrays, then one DKM length, are taken");
    }
  }
  m.source_data = std::move(fixed);  // the whole fixed input, with no separator of its own
  m.kbkdf_separator = false;
}

struct VendorParams {
  CK_MECHANISM_TYPE prf;
  std::vector<CK_PRF_DATA_PARAM> data;
};

// CloudHSM's CK_SP800_108_KDF_PARAMS (prftype, count, params), or the standard's larger struct.
VendorParams ReadVendor(const CK_MECHANISM* mech) {
  CK_CLOUDHSM_SP800_108_KDF_PARAMS k;
  if (mech->pParameter != nullptr && mech->ulParameterLen == sizeof(CK_SP800_108_KDF_PARAMS)) {
    auto full = CopyOut<CK_SP800_108_KDF_PARAMS>(mech->pParameter, mech->ulParameterLen, "CK_SP800_108_KDF_PARAMS");
    k = {full.prfType, full.ulNumberOfDataParams, full.pDataParams};
  } else {
    k = CopyOut<CK_CLOUDHSM_SP800_108_KDF_PARAMS>(mech->pParameter, mech->ulParameterLen, "CK_SP800_108_KDF_PARAMS");
  }
  return {k.prftype, DataParams(k.pDataParams, k.ulNumberOfDataParams)};
}

// A vendor counter format or DKM length format: its width in bits (the DKM length over the derived key).
CK_ULONG CounterWidth(const CK_PRF_DATA_PARAM& d) {
  return CopyOut<CK_CLOUDHSM_SP800_108_COUNTER_FORMAT>(d.pValue, d.ulValueLen, "the counter format").ulWidthInBits;
}
CK_ULONG DkmWidth(const CK_PRF_DATA_PARAM& d) {
  auto f = CopyOut<CK_CLOUDHSM_SP800_108_DKM_LENGTH_FORMAT>(d.pValue, d.ulValueLen, "the DKM format");
  if (f.dkmLengthMethod != CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS) Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: the DKM length is over the derived key");
  return f.ulWidthInBits;
}

// The older vendor layout (hmac_kdf): typed counter format, label, context, DKM format, laid out
// as [i] || label || 0x00 || context || [L].
void CloudHsm(const VendorParams& v, MechParams& m) {
  m.prf = v.prf;
  for (const CK_PRF_DATA_PARAM& d : v.data) {
    switch (d.type) {
      case CK_CLOUDHSM_PRF_COUNTER_FORMAT: m.counter_bits = CounterWidth(d); break;
      case CK_CLOUDHSM_PRF_DKM_FORMAT: m.dkm_bits = DkmWidth(d); break;
      case CK_CLOUDHSM_PRF_LABEL: m.source_data = ValueOf(d); break;
      case CK_CLOUDHSM_PRF_CONTEXT: m.context = ValueOf(d); break;
      default: Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: data parameter types are the counter format, label, context and DKM format");
    }
  }
}

// The 2023 vendor layout: [byte array]* iteration variable [byte array]* [DKM length], the PRF
// input in that order (prefix || [i] || suffix || [L]).
bool IsLayout2023(const std::vector<CK_PRF_DATA_PARAM>& data) {
  for (const CK_PRF_DATA_PARAM& d : data) {
    if (d.type == CK_CLOUDHSM_SP800_108_ITERATION_VARIABLE) return true;
  }
  return false;
}

void CloudHsm2023(const VendorParams& v, MechParams& m) {
  m.prf = v.prf;
  Bytes prefix, suffix;
  bool counter_seen = false, dkm_seen = false;
  for (const CK_PRF_DATA_PARAM& d : v.data) {
    if (dkm_seen) Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: the DKM length comes last");
    switch (d.type) {
      case CK_CLOUDHSM_SP800_108_BYTE_ARRAY: Append(counter_seen ? suffix : prefix, ValueOf(d)); break;
      case CK_CLOUDHSM_SP800_108_ITERATION_VARIABLE:
        if (counter_seen) Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: one iteration variable");
        counter_seen = true;
        m.counter_bits = CounterWidth(d);
        break;
      case CK_CLOUDHSM_SP800_108_DKM_LENGTH:
        m.dkm_bits = DkmWidth(d);
        dkm_seen = true;
        break;
      default: Fail(CKR_MECHANISM_PARAM_INVALID, "SP 800-108: data parameter types are byte arrays, one iteration variable and a DKM length");
    }
  }
  if (!dkm_seen) m.dkm_bits = 0;
  m.kbkdf_prefix = std::move(prefix);
  m.source_data = std::move(suffix);
  m.kbkdf_separator = false;
}

}  // namespace

void ReadKbkdfParams(const CK_MECHANISM* mech, MechParams& m) {
  if (mech->mechanism == CKM_CLOUDHSM_SP800_108_COUNTER_KDF) {
    // Which vendor layout: the data parameters say (the 2023 one has an iteration variable).
    VendorParams v = ReadVendor(mech);
    if (IsLayout2023(v.data)) return CloudHsm2023(v, m);
    CloudHsm(v, m);
  } else {
    Standard(mech, m);
  }
}

}  // namespace hsm::p11
