// native/pkcs11/entry.cc
//
// The module's entry points: C_GetFunctionList (the v2.40 list) and C_GetInterfaceList /
// C_GetInterface (PKCS#11 3.0), plus the functions sealhsm does not offer, each returning the code
// the standard gives for that case. The list itself is built from the header's one X-macro list.
#include <pthread.h>

#include <cstring>

#include "door.h"
#include "entry.h"

using namespace hsm;
using namespace hsm::p11;

extern "C" {

// Not offered: session-state save/restore, sign/verify with recovery, dual-function updates, slot
// events. Parallel-function calls are a legacy feature: CKR_FUNCTION_NOT_PARALLEL.
SEALHSM_EXPORT CK_RV C_GetOperationState(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_SetOperationState(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_DigestKey(CK_SESSION_HANDLE, CK_OBJECT_HANDLE) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_SignRecoverInit(CK_SESSION_HANDLE, CK_MECHANISM*, CK_OBJECT_HANDLE) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_SignRecover(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE, CK_MECHANISM*, CK_OBJECT_HANDLE) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_VerifyRecover(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE) { return Initialized() ? CKR_FUNCTION_NOT_PARALLEL : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_CancelFunction(CK_SESSION_HANDLE) { return Initialized() ? CKR_FUNCTION_NOT_PARALLEL : CKR_CRYPTOKI_NOT_INITIALIZED; }
SEALHSM_EXPORT CK_RV C_WaitForSlotEvent(CK_FLAGS, CK_SLOT_ID*, CK_VOID_PTR) { return Initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED; }

#define SEALHSM_P11_ADDRESS(name, args) name,
static CK_FUNCTION_LIST g_functions = {{2, 40}, SEALHSM_P11_FUNCTIONS_V2(SEALHSM_P11_ADDRESS)};

SEALHSM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList) {
  if (ppFunctionList == nullptr) return CKR_ARGUMENTS_BAD;
  *ppFunctionList = &g_functions;
  return CKR_OK;
}

// PKCS#11 3.0 §5.2: one interface, "PKCS 11", whose function list is the v2.40 one above.
static CK_CHAR g_interface_name[] = "PKCS 11";
static CK_INTERFACE g_interface = {g_interface_name, &g_functions, 0};

SEALHSM_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE* pInterfacesList, CK_ULONG_PTR pulCount) {
  if (pulCount == nullptr) return CKR_ARGUMENTS_BAD;
  if (pInterfacesList == nullptr) {
    *pulCount = 1;
    return CKR_OK;
  }
  if (*pulCount < 1) {
    *pulCount = 1;
    return CKR_BUFFER_TOO_SMALL;
  }
  pInterfacesList[0] = g_interface;
  *pulCount = 1;
  return CKR_OK;
}

SEALHSM_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR* pInterfaceName, CK_VERSION* pVersion, CK_INTERFACE** ppInterface, CK_FLAGS flags) {
  if (ppInterface == nullptr) return CKR_ARGUMENTS_BAD;
  if (pInterfaceName != nullptr && std::strcmp(reinterpret_cast<const char*>(pInterfaceName), "PKCS 11") != 0) return CKR_ARGUMENTS_BAD;
  if (pVersion != nullptr && (pVersion->major != 2 || pVersion->minor != 40)) return CKR_ARGUMENTS_BAD;
  if (flags != 0) return CKR_ARGUMENTS_BAD;  // no fork-safe interface variant is offered
  *ppInterface = &g_interface;
  return CKR_OK;
}

}  // extern "C"
