// native/pkcs11/door.h
//
// The C ABI door's shared pieces (PKCS#11 v2.40 / v3.0 §5): the guard every C_* function runs in
// (initialized? same process? no exception crosses), the size-query protocol, and the marshalling
// of CK_ATTRIBUTE / CK_MECHANISM into core types. No policy and no crypto here.
#pragma once

#include <functional>
#include <string>

#include "library.h"

namespace hsm::p11 {

// Runs `f` if the library is initialized in this process; maps core errors to their CKR_* value.
CK_RV Guard(const std::function<CK_RV()>& f);
CK_RV GuardNoInit(const std::function<CK_RV()>& f);  // for C_Initialize / C_GetFunctionList

bool Initialized();
void SetInitialized(bool on);
// Application mutex callbacks given without CKF_OS_LOCKING_OK: the library then serializes every
// call under one mutex made with the application's own functions (PKCS#11 §5.4 C_Initialize).
void UseApplicationMutex(const CK_C_INITIALIZE_ARGS* args);  // nullptr: OS locking only
void DropApplicationMutex();
void Log(const std::string& line);  // the configured log (stderr by default); never secrets

Bound Resolve(CK_SESSION_HANDLE h);

// Size-query protocol: writes `out` or reports its length. With a NULL buffer → the length and
// CKR_OK; with a short buffer → the length and CKR_BUFFER_TOO_SMALL. In both cases the result is
// kept for the caller's next call (`kind` names the operation), so the operation is not redone.
enum class Pending { kEncrypt, kDecrypt, kSign, kDigest, kWrap, kEncryptUpdate, kDecryptUpdate, kEncryptFinal, kDecryptFinal, kDigestFinal, kSignFinal };
bool TakePending(CK_SESSION_HANDLE s, Pending kind, Bytes* out);
// A single-part result kept after a size query: that operation is still active for the caller,
// so a multi-part call of its kind is CKR_OPERATION_ACTIVE (PKCS#11 v3.0 §5.2).
bool HasPending(CK_SESSION_HANDLE s, Pending kind);
void DropPending(CK_SESSION_HANDLE s);
CK_RV Emit(CK_SESSION_HANDLE s, Pending kind, Bytes out, CK_BYTE_PTR buf, CK_ULONG_PTR len);

void Need(const void* p);  // CKR_ARGUMENTS_BAD for NULL

// A call that produces bytes under the size-query protocol: the kept result if the caller is
// retrying, else `compute()`; then Emit.
template <typename F>
CK_RV Produce(CK_SESSION_HANDLE s, Pending kind, CK_BYTE_PTR buf, CK_ULONG_PTR len, F&& compute) {
  return Guard([&]() -> CK_RV {
    Need(len);  // before any work: a NULL length pointer is CKR_ARGUMENTS_BAD whatever the data
    Bytes result;
    if (!TakePending(s, kind, &result)) result = compute();
    return Emit(s, kind, std::move(result), buf, len);
  });
}

// The size-query protocol for a list of CK_ULONGs (slot ids, mechanism types).
CK_RV EmitList(const std::vector<CK_ULONG>& items, CK_ULONG* out, CK_ULONG_PTR count);

Template ToTemplate(const CK_ATTRIBUTE* t, CK_ULONG n, bool nested = false);
// A GCM IV the token generated (CloudHSM profiles) written into the caller's CK_GCM_PARAMS.pIv.
void WriteBackIv(CK_MECHANISM* m, const Bytes& iv);
MechParams ToMechanism(const CK_MECHANISM* m);
// CK_SP800_108_KDF_PARAMS (standard) or CloudHSM's vendor form (kbkdf_params.cc).
void ReadKbkdfParams(const CK_MECHANISM* mech, MechParams& m);
ByteView In(const CK_BYTE* p, CK_ULONG n);  // CKR_ARGUMENTS_BAD for NULL with n > 0

// Fixed-width, blank-padded PKCS#11 text fields.
void Pad(CK_UTF8CHAR* dst, std::size_t width, const std::string& text);

}  // namespace hsm::p11
