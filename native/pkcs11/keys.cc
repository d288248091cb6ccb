// native/pkcs11/keys.cc
// PKCS#11 §5.14–5.15: key generation, wrap, unwrap, derive, random.
#include <openssl/rand.h>

#include "door.h"
#include "entry.h"
#include "ossl.h"

using namespace hsm;
using namespace hsm::p11;

extern "C" {

SEALHSM_EXPORT CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_ATTRIBUTE* t, CK_ULONG n, CK_OBJECT_HANDLE* phKey) {
  return Guard([&]() -> CK_RV {
    Need(phKey);
    Bound b = Resolve(h);
    *phKey = b.token->GenerateKey(*b.session, ToMechanism(m), ToTemplate(t, n));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_ATTRIBUTE* pub, CK_ULONG npub, CK_ATTRIBUTE* priv,
                                       CK_ULONG npriv, CK_OBJECT_HANDLE* phPublicKey, CK_OBJECT_HANDLE* phPrivateKey) {
  return Guard([&]() -> CK_RV {
    Need(phPublicKey);
    Need(phPrivateKey);
    Bound b = Resolve(h);
    auto [p, s] = b.token->GenerateKeyPair(*b.session, ToMechanism(m), ToTemplate(pub, npub), ToTemplate(priv, npriv));
    *phPublicKey = p;
    *phPrivateKey = s;
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, CK_BYTE_PTR out,
                               CK_ULONG_PTR out_len) {
  return Produce(h, Pending::kWrap, out, out_len, [&] {
    Bound b = Resolve(h);
    Bytes iv;
    Bytes wrapped = b.token->WrapKey(*b.session, ToMechanism(m), wrapping, key, &iv);
    WriteBackIv(m, iv);  // CloudHSM GCM: the generated IV goes to pIv, as C_EncryptInit does
    return wrapped;
  });
}

SEALHSM_EXPORT CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE unwrapping, CK_BYTE_PTR wrapped, CK_ULONG wrapped_len,
                                 CK_ATTRIBUTE* t, CK_ULONG n, CK_OBJECT_HANDLE* phKey) {
  return Guard([&]() -> CK_RV {
    Need(phKey);
    Need(wrapped);
    Bound b = Resolve(h);
    *phKey = b.token->UnwrapKey(*b.session, ToMechanism(m), unwrapping, In(wrapped, wrapped_len), ToTemplate(t, n));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE base, CK_ATTRIBUTE* t, CK_ULONG n, CK_OBJECT_HANDLE* phKey) {
  return Guard([&]() -> CK_RV {
    Need(phKey);
    Bound b = Resolve(h);
    *phKey = b.token->DeriveKey(*b.session, ToMechanism(m), base, ToTemplate(t, n));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR seed, CK_ULONG n) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    if (!b.token->profile().token_admin_functions) return CKR_FUNCTION_NOT_SUPPORTED;
    ByteView in = In(seed, n);
    RAND_seed(in.data, static_cast<int>(in.size));  // mixed in; it never replaces the system RNG
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG n) {
  return Guard([&]() -> CK_RV {
    (void)Resolve(h);
    if (n > 0) Need(out);
    ossl::RandomInto(out, n);
    return CKR_OK;
  });
}

}  // extern "C"
