// native/pkcs11/crypto.cc
// PKCS#11 §5.8–5.13: encrypt, decrypt, digest, sign, verify — single-part and multi-part, with the
// size-query protocol. A generated GCM IV is written back into CK_GCM_PARAMS.pIv at init.
#include <cstring>
#include <vector>

#include "door.h"
#include "entry.h"

using namespace hsm;
using namespace hsm::p11;

namespace {

// A call that fails ends its operation (PKCS#11 v3.0 §5.2 and §5.8–5.13: "a call to C_EncryptUpdate
// which results in an error terminates the current encryption operation", and so for every update,
// final and single-part call), except the answers that leave it as it was: a short buffer (the
// size-query protocol), an operation of another form under way (CKR_OPERATION_ACTIVE), none at all,
// or no session.
bool LeavesOperation(CK_RV rv) {
  switch (rv) {
    case CKR_OK: case CKR_BUFFER_TOO_SMALL: case CKR_OPERATION_ACTIVE: case CKR_OPERATION_NOT_INITIALIZED:
    case CKR_SESSION_HANDLE_INVALID: case CKR_SESSION_CLOSED: case CKR_CRYPTOKI_NOT_INITIALIZED:
      return true;
    default:
      return false;
  }
}

// The results kept for a size query that belong to an operation of `kind` (verification keeps none).
std::vector<Pending> KeptFor(OpKind kind) {
  switch (kind) {
    case OpKind::kEncrypt: return {Pending::kEncrypt, Pending::kEncryptUpdate, Pending::kEncryptFinal};
    case OpKind::kDecrypt: return {Pending::kDecrypt, Pending::kDecryptUpdate, Pending::kDecryptFinal};
    case OpKind::kSign: return {Pending::kSign, Pending::kSignFinal};
    case OpKind::kDigest: return {Pending::kDigest, Pending::kDigestFinal};
    case OpKind::kVerify: return {};
  }
  return {};
}

CK_RV EndingOnError(CK_SESSION_HANDLE h, OpKind kind, CK_RV rv) {
  if (LeavesOperation(rv)) return rv;
  try {
    Bound b = Resolve(h);
    b.token->EndOperation(*b.session, kind);
    Bytes dropped;
    for (Pending p : KeptFor(kind)) (void)TakePending(h, p, &dropped);
  } catch (const Error&) {
  }
  return rv;
}

// A multi-part call after a single-part size query whose result is kept: that single-part
// operation is under way (§5.2), so the call is CKR_OPERATION_ACTIVE.
void RequireNoSinglePart(CK_SESSION_HANDLE h, Pending single) {
  if (HasPending(h, single)) Fail(CKR_OPERATION_ACTIVE, "a single-part operation is under way (its result waits for a buffer)");
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
  return EndingOnError(h, encrypt ? OpKind::kEncrypt : OpKind::kDecrypt, Produce(h, encrypt ? Pending::kEncrypt : Pending::kDecrypt, out, out_len, [&] {
    Bound b = Resolve(h);
    return b.token->CipherSingle(*b.session, encrypt, In(in, in_len));
  }));
}

CK_RV CipherUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len, bool encrypt) {
  return EndingOnError(h, encrypt ? OpKind::kEncrypt : OpKind::kDecrypt, Produce(h, encrypt ? Pending::kEncryptUpdate : Pending::kDecryptUpdate, out, out_len, [&] {
    RequireNoSinglePart(h, encrypt ? Pending::kEncrypt : Pending::kDecrypt);
    Bound b = Resolve(h);
    return b.token->CipherUpdate(*b.session, encrypt, In(in, in_len));
  }));
}

CK_RV CipherFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len, bool encrypt) {
  return EndingOnError(h, encrypt ? OpKind::kEncrypt : OpKind::kDecrypt, Produce(h, encrypt ? Pending::kEncryptFinal : Pending::kDecryptFinal, out, out_len, [&] {
    RequireNoSinglePart(h, encrypt ? Pending::kEncrypt : Pending::kDecrypt);
    Bound b = Resolve(h);
    return b.token->CipherFinal(*b.session, encrypt);
  }));
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
  return EndingOnError(h, sign ? OpKind::kSign : OpKind::kVerify, Guard([&]() -> CK_RV {
    if (sign && HasPending(h, Pending::kSign)) return CKR_OPERATION_ACTIVE;
    Bound b = Resolve(h);
    b.token->SignUpdate(*b.session, sign, In(in, in_len));
    return CKR_OK;
  }));
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
  return EndingOnError(h, OpKind::kDigest, Produce(h, Pending::kDigest, o, on, [&] {
    Bound b = Resolve(h);
    return b.token->DigestSingle(*b.session, In(d, n));
  }));
}

SEALHSM_EXPORT CK_RV C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) {
  return EndingOnError(h, OpKind::kDigest, Guard([&]() -> CK_RV {
    RequireNoSinglePart(h, Pending::kDigest);
    Bound b = Resolve(h);
    b.token->DigestUpdate(*b.session, In(d, n));
    return CKR_OK;
  }));
}

SEALHSM_EXPORT CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key) {
  return Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    if (!b.token->profile().token_admin_functions) return CKR_FUNCTION_NOT_SUPPORTED;  // not in CloudHSM's library
    RequireNoSinglePart(h, Pending::kDigest);
    b.token->DigestKey(*b.session, key);  // ends the digest itself when the key is refused
    return CKR_OK;
  });
}

SEALHSM_EXPORT CK_RV C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR on) {
  return EndingOnError(h, OpKind::kDigest, Produce(h, Pending::kDigestFinal, o, on, [&] {
    RequireNoSinglePart(h, Pending::kDigest);
    Bound b = Resolve(h);
    return b.token->DigestFinal(*b.session);
  }));
}

SEALHSM_EXPORT CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE k) { return SignInit(h, m, k, true); }
SEALHSM_EXPORT CK_RV C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM* m, CK_OBJECT_HANDLE k) { return SignInit(h, m, k, false); }
SEALHSM_EXPORT CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) { return SignUpdate(h, d, n, true); }
SEALHSM_EXPORT CK_RV C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) { return SignUpdate(h, d, n, false); }

SEALHSM_EXPORT CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR o, CK_ULONG_PTR on) {
  return EndingOnError(h, OpKind::kSign, Produce(h, Pending::kSign, o, on, [&] {
    Bound b = Resolve(h);
    return b.token->SignSingle(*b.session, In(d, n));
  }));
}

SEALHSM_EXPORT CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR on) {
  return EndingOnError(h, OpKind::kSign, Produce(h, Pending::kSignFinal, o, on, [&] {
    RequireNoSinglePart(h, Pending::kSign);
    Bound b = Resolve(h);
    return b.token->SignFinal(*b.session);
  }));
}

SEALHSM_EXPORT CK_RV C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR sig, CK_ULONG sig_len) {
  return EndingOnError(h, OpKind::kVerify, Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    b.token->VerifySingle(*b.session, In(d, n), In(sig, sig_len));  // an empty signature is a length error, not NULL
    return CKR_OK;
  }));
}

SEALHSM_EXPORT CK_RV C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG sig_len) {
  return EndingOnError(h, OpKind::kVerify, Guard([&]() -> CK_RV {
    Bound b = Resolve(h);
    b.token->VerifyFinal(*b.session, In(sig, sig_len));
    return CKR_OK;
  }));
}

}  // extern "C"
