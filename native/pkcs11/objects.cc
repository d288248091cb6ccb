// native/pkcs11/objects.cc
// PKCS#11 §5.7 object management: create, copy, destroy, size, get/set attributes, find.
#include <cstring>

#include "door.h"
#include "entry.h"

using namespace hsm;
using namespace hsm::p11;

extern "C" {

SEALHSM_EXPORT CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE* phObject) {
  return Guard([&]() -> CK_RV {
    Need(phObject);
    Bound b = Resolve(hSession);
    *phObject = b.token->CreateObject(*b.session, ToTemplate(pTemplate, ulCount));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount,
                                  CK_OBJECT_HANDLE* phNewObject) {
  return Guard([&]() -> CK_RV {
    Need(phNewObject);
    Bound b = Resolve(hSession);
    if (!b.token->profile().token_admin_functions) return CKR_FUNCTION_NOT_SUPPORTED;
    *phNewObject = b.token->CopyObject(*b.session, hObject, ToTemplate(pTemplate, ulCount));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    b.token->DestroyObject(*b.session, hObject);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize) {
  return Guard([&]() -> CK_RV {
    Need(pulSize);
    Bound b = Resolve(hSession);
    if (!b.token->profile().token_admin_functions) return CKR_FUNCTION_NOT_SUPPORTED;
    (void)b.token->GetAttributes(*b.session, hObject, {CKA_CLASS});  // the object must exist and be visible
    *pulSize = CK_UNAVAILABLE_INFORMATION;  // the standard's answer when the size is not meaningful
    return CKR_OK;
  });
}

// §5.7 C_GetAttributeValue: every entry is processed; the return value reports the first problem
// (sensitive, then invalid type, then a short buffer), as the standard requires.
SEALHSM_EXPORT CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount) {
  return Guard([&]() -> CK_RV {
    if (pTemplate == nullptr && ulCount > 0) return CKR_ARGUMENTS_BAD;
    Bound b = Resolve(hSession);
    std::vector<CK_ATTRIBUTE_TYPE> types;
    for (CK_ULONG i = 0; i < ulCount; ++i) types.push_back(pTemplate[i].type);
    std::vector<AttributeValue> got = b.token->GetAttributes(*b.session, hObject, types);
    CK_RV rv = CKR_OK;
    for (CK_ULONG i = 0; i < ulCount; ++i) {
      CK_ATTRIBUTE& a = pTemplate[i];
      const AttributeValue& v = got[i];
      bool nested = (a.type & CKF_ARRAY_ATTRIBUTE) && a.type != CKA_ALLOWED_MECHANISMS;
      if (v.status != CKR_OK || nested) {  // templates are set through this door, not read back
        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
        CK_RV here = v.status != CKR_OK ? v.status : CKR_ATTRIBUTE_TYPE_INVALID;
        if (rv == CKR_OK || here == CKR_ATTRIBUTE_SENSITIVE) rv = rv == CKR_ATTRIBUTE_SENSITIVE ? rv : here;
        continue;
      }
      if (a.pValue == nullptr) {
        a.ulValueLen = v.value.size();
      } else if (a.ulValueLen < v.value.size()) {
        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
        if (rv == CKR_OK) rv = CKR_BUFFER_TOO_SMALL;
      } else {
        if (!v.value.empty()) std::memcpy(a.pValue, v.value.data(), v.value.size());
        a.ulValueLen = v.value.size();
      }
    }
    return rv;
  });
}

SEALHSM_EXPORT CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    if (!b.token->profile().set_attribute_value) return CKR_FUNCTION_NOT_SUPPORTED;  // CloudHSM: `key set-attribute` only
    b.token->SetAttributes(*b.session, hObject, ToTemplate(pTemplate, ulCount));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE* pTemplate, CK_ULONG ulCount) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    b.token->FindInit(*b.session, ToTemplate(pTemplate, ulCount));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE* phObject, CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount) {
  return Guard([&]() -> CK_RV {
    Need(pulObjectCount);
    Bound b = Resolve(hSession);
    if (phObject == nullptr && b.token->profile().find_count_query) {
      *pulObjectCount = std::min<CK_ULONG>(ulMaxObjectCount, b.token->FindRemaining(*b.session));
      return CKR_OK;
    }
    Need(phObject);
    std::vector<CK_OBJECT_HANDLE> next = b.token->FindNext(*b.session, ulMaxObjectCount);
    std::copy(next.begin(), next.end(), phObject);
    *pulObjectCount = next.size();
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(hSession);
    b.token->FindFinal(*b.session);
    return CKR_OK;
  });
}

}  // extern "C"
