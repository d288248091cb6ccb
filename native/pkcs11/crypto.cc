// native/pkcs11/crypto.cc
// PKCS#11 §5.8–5.13: encrypt, decrypt, digest, sign, verify — single-part and multi-part, with the
// size-query protocol. A generated GCM IV is written back into CK_GCM_PARAMS.pIv at init.
#include <cstring>

#include "door.h"
#include "entry.h"

using namespace hsm;
using namespace hsm::p11;

namespace {

// A single-part call ends its operation even when its arguments are refused (§5.8–5.13).
template <typename F>
auto Ending(CK_SESSION_HANDLE h, OpKind kind, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    if (e.rv() == CKR_ARGUMENTS_BAD) {
      try {
        Bound b = Resolve(h);
        b.token->EndOperation(*b.session, kind);
      } catch (const Error&) {
      }
    }
    throw;
  }
}

CK_RV CipherInit(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE key, bool encrypt) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    DropPending(h);
    Bytes iv;
    b.token->CipherInit(*b.session, encrypt, ToMechanism(m), key, &iv);
    WriteBackIv(m, iv);
    return CKR_OK;
  });
}

CK_RV CipherSingle(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len, bool encrypt) {
  return Produce(h, encrypt ? Pending::kEncrypt : Pending::kDecrypt, out, out_len, [&] {
    return Ending(h, encrypt ? OpKind::kEncrypt : OpKind::kDecrypt, [&] {
      Bound b = Resolve(h);
      return b.token->CipherSingle(*b.session, encrypt, In(in, in_len));
    });
  });
}

CK_RV CipherUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len, bool encrypt) {
  return Produce(h, encrypt ? Pending::kEncryptUpdate : Pending::kDecryptUpdate, out, out_len, [&] {
    if (HasPending(h, encrypt ? Pending::kEncrypt : Pending::kDecrypt)) Fail(CKR_OPERATION_ACTIVE, "a single-part operation is under way");
    Bound b = Resolve(h);
    return b.token->CipherUpdate(*b.session, encrypt, In(in, in_len));
  });
}

CK_RV CipherFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len, bool encrypt) {
  return Produce(h, encrypt ? Pending::kEncryptFinal : Pending::kDecryptFinal, out, out_len, [&] {
    Bound b = Resolve(h);
    return b.token->CipherFinal(*b.session, encrypt);
  });
}

CK_RV SignInit(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE key, bool sign) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    DropPending(h);
    b.token->SignInit(*b.session, sign, ToMechanism(m), key);
    return CKR_OK;
  });
}

CK_RV SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, bool sign) {
  return Guard([&]() -> CK_RV {
    if (sign && HasPending(h, Pending::kSign)) return CKR_OPERATION_ACTIVE;
    Bound b = Resolve(h);
    b.token->SignUpdate(*b.session, sign, In(in, in_len));
    return CKR_OK;
  });
}

}  // namespace

extern "C" {

SEALHSM_EXPORT CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE k) { return CipherInit(h, m, k, true); }
SEALHSM_EXPORT CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE k) { return CipherInit(h, m, k, false); }
SEALHSM_EXPORT CK_RV C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR o, CK_ULONG_PTR on) { return CipherSingle(h, d, n, o, on, true); }
SEALHSM_EXPORT CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR o, CK_ULONG_PTR on) { return CipherSingle(h, d, n, o, on, false); }
SEALHSM_EXPORT CK_RV C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR o, CK_ULONG_PTR on) { return CipherUpdate(h, d, n, o, on, true); }
SEALHSM_EXPORT CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR o, CK_ULONG_PTR on) { return CipherUpdate(h, d, n, o, on, false); }
SEALHSM_EXPORT CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR on) { return CipherFinal(h, o, on, true); }
SEALHSM_EXPORT CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR on) { return CipherFinal(h, o, on, false); }

SEALHSM_EXPORT CK_RV C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM* m) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    DropPending(h);
    b.token->DigestInit(*b.session, ToMechanism(m));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR o, CK_ULONG_PTR on) {
  return Produce(h, Pending::kDigest, o, on, [&] {
    return Ending(h, OpKind::kDigest, [&] {
      Bound b = Resolve(h);
      return b.token->DigestSingle(*b.session, In(d, n));
    });
  });
}

SEALHSM_EXPORT CK_RV C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) {
  return Guard([&]() -> CK_RV {
    if (HasPending(h, Pending::kDigest)) return CKR_OPERATION_ACTIVE;
    Bound b = Resolve(h);
    b.token->DigestUpdate(*b.session, In(d, n));
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    if (!b.token->profile().token_admin_functions) return CKR_FUNCTION_NOT_SUPPORTED;  // not in CloudHSM's library
    b.token->DigestKey(*b.session, key);
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR on) {
  return Produce(h, Pending::kDigestFinal, o, on, [&] {
    Bound b = Resolve(h);
    return b.token->DigestFinal(*b.session);
  });
}

SEALHSM_EXPORT CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE k) { return SignInit(h, m, k, true); }
SEALHSM_EXPORT CK_RV C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE k) { return SignInit(h, m, k, false); }
SEALHSM_EXPORT CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) { return SignUpdate(h, d, n, true); }
SEALHSM_EXPORT CK_RV C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) { return SignUpdate(h, d, n, false); }

SEALHSM_EXPORT CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR o, CK_ULONG_PTR on) {
  return Produce(h, Pending::kSign, o, on, [&] {
    return Ending(h, OpKind::kSign, [&] {
      Bound b = Resolve(h);
      return b.token->SignSingle(*b.session, In(d, n));
    });
  });
}

SEALHSM_EXPORT CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR on) {
  return Produce(h, Pending::kSignFinal, o, on, [&] {
    Bound b = Resolve(h);
    return b.token->SignFinal(*b.session);
  });
}

SEALHSM_EXPORT CK_RV C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR sig, CK_ULONG sig_len) {
  return Guard([&]() -> CK_RV {
    return Ending(h, OpKind::kVerify, [&] {
      Bound b = Resolve(h);
      b.token->VerifySingle(*b.session, In(d, n), In(sig, sig_len));  // an empty signature is a length error, not NULL
      return CKR_OK;
    });
  });
}

SEALHSM_EXPORT CK_RV C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG sig_len) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    b.token->VerifyFinal(*b.session, In(sig, sig_len));
    return CKR_OK;
  });
}

}  // extern "C"
