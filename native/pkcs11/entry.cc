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

// Not offered, each answering with the standard's code for that case once the library is initialized.
#define SEALHSM_ANSWER(name, args, rv) \
  SEALHSM_EXPORT CK_RV name args { return Initialized() ? (rv) : CKR_CRYPTOKI_NOT_INITIALIZED; }
#define SEALHSM_NOT_OFFERED(name, args) SEALHSM_ANSWER(name, args, CKR_FUNCTION_NOT_SUPPORTED)

// Session-state save/restore, sign/verify with recovery, dual-function updates, slot events.
SEALHSM_NOT_OFFERED(C_GetOperationState, (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_SetOperationState, (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_OBJECT_HANDLE, CK_OBJECT_HANDLE))
SEALHSM_NOT_OFFERED(C_SignRecoverInit, (CK_SESSION_HANDLE, CK_MECHANISM*, CK_OBJECT_HANDLE))
SEALHSM_NOT_OFFERED(C_SignRecover, (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_VerifyRecoverInit, (CK_SESSION_HANDLE, CK_MECHANISM*, CK_OBJECT_HANDLE))
SEALHSM_NOT_OFFERED(C_VerifyRecover, (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_DigestEncryptUpdate, (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_DecryptDigestUpdate, (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_SignEncryptUpdate, (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_DecryptVerifyUpdate, (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_WaitForSlotEvent, (CK_FLAGS, CK_SLOT_ID*, CK_VOID_PTR))
// Parallel-function calls are a legacy feature: the standard's answer is CKR_FUNCTION_NOT_PARALLEL.
SEALHSM_ANSWER(C_GetFunctionStatus, (CK_SESSION_HANDLE), CKR_FUNCTION_NOT_PARALLEL)
SEALHSM_ANSWER(C_CancelFunction, (CK_SESSION_HANDLE), CKR_FUNCTION_NOT_PARALLEL)

#define SEALHSM_P11_ADDRESS(name, args) name,
static CK_FUNCTION_LIST g_functions = {{2, 40}, SEALHSM_P11_FUNCTIONS_V2(SEALHSM_P11_ADDRESS)};

SEALHSM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList) {
  if (ppFunctionList == nullptr) return CKR_ARGUMENTS_BAD;
  *ppFunctionList = &g_functions;
  return CKR_OK;
}

// PKCS#11 3.0 message-based functions: not offered.
SEALHSM_NOT_OFFERED(C_MessageEncryptInit, (CK_SESSION_HANDLE, CK_MECHANISM*, CK_OBJECT_HANDLE))
SEALHSM_NOT_OFFERED(C_EncryptMessage, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_EncryptMessageBegin, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG))
SEALHSM_NOT_OFFERED(C_EncryptMessageNext, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR, CK_FLAGS))
SEALHSM_NOT_OFFERED(C_MessageEncryptFinal, (CK_SESSION_HANDLE))
SEALHSM_NOT_OFFERED(C_MessageDecryptInit, (CK_SESSION_HANDLE, CK_MECHANISM*, CK_OBJECT_HANDLE))
SEALHSM_NOT_OFFERED(C_DecryptMessage, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_DecryptMessageBegin, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG))
SEALHSM_NOT_OFFERED(C_DecryptMessageNext, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR, CK_FLAGS))
SEALHSM_NOT_OFFERED(C_MessageDecryptFinal, (CK_SESSION_HANDLE))
SEALHSM_NOT_OFFERED(C_MessageSignInit, (CK_SESSION_HANDLE, CK_MECHANISM*, CK_OBJECT_HANDLE))
SEALHSM_NOT_OFFERED(C_SignMessage, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_SignMessageBegin, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG))
SEALHSM_NOT_OFFERED(C_SignMessageNext, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR))
SEALHSM_NOT_OFFERED(C_MessageSignFinal, (CK_SESSION_HANDLE))
SEALHSM_NOT_OFFERED(C_MessageVerifyInit, (CK_SESSION_HANDLE, CK_MECHANISM*, CK_OBJECT_HANDLE))
SEALHSM_NOT_OFFERED(C_VerifyMessage, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG))
SEALHSM_NOT_OFFERED(C_VerifyMessageBegin, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG))
SEALHSM_NOT_OFFERED(C_VerifyMessageNext, (CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG))
SEALHSM_NOT_OFFERED(C_MessageVerifyFinal, (CK_SESSION_HANDLE))

static CK_FUNCTION_LIST_3_0 g_functions_3_0 = {{3, 0}, SEALHSM_P11_FUNCTIONS_V2(SEALHSM_P11_ADDRESS) SEALHSM_P11_FUNCTIONS_V3(SEALHSM_P11_ADDRESS)};

// PKCS#11 3.0 §5.2: the interface "PKCS 11" in two versions, 3.0 first (the default) and 2.40.
static CK_CHAR g_interface_name[] = "PKCS 11";
static CK_INTERFACE g_interfaces[2] = {{g_interface_name, &g_functions_3_0, 0}, {g_interface_name, &g_functions, 0}};

SEALHSM_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE* pInterfacesList, CK_ULONG_PTR pulCount) {
  if (pulCount == nullptr) return CKR_ARGUMENTS_BAD;
  if (pInterfacesList == nullptr) {
    *pulCount = 2;
    return CKR_OK;
  }
  if (*pulCount < 2) {
    *pulCount = 2;
    return CKR_BUFFER_TOO_SMALL;
  }
  pInterfacesList[0] = g_interfaces[0];
  pInterfacesList[1] = g_interfaces[1];
  *pulCount = 2;
  return CKR_OK;
}

SEALHSM_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR* pInterfaceName, CK_VERSION* pVersion, CK_INTERFACE** ppInterface, CK_FLAGS flags) {
  if (ppInterface == nullptr) return CKR_ARGUMENTS_BAD;
  if (pInterfaceName != nullptr && std::strcmp(reinterpret_cast<const char*>(pInterfaceName), "PKCS 11") != 0) return CKR_ARGUMENTS_BAD;
  if (flags != 0) return CKR_ARGUMENTS_BAD;  // no fork-safe interface variant is offered
  if (pVersion == nullptr || (pVersion->major == 3 && pVersion->minor == 0)) {
    *ppInterface = &g_interfaces[0];
  } else if (pVersion->major == 2 && pVersion->minor == 40) {
    *ppInterface = &g_interfaces[1];
  } else {
    return CKR_ARGUMENTS_BAD;
  }
  return CKR_OK;
}

}  // extern "C"
