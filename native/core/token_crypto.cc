// native/core/token_crypto.cc
// Cryptographic operations of a token (PKCS#11 v3.0 §5.8–5.13): encrypt, decrypt, sign, verify and
// digest, one-shot and multi-part, with §5.2's operation-state rules (a failed call ends its
// operation; a single-part call during a multi-part one is CKR_OPERATION_ACTIVE). No N-API here.

#include <algorithm>

#include "token.h"

namespace hsm {

namespace {

// An operation's output into the caller's memory: written in place when the operation can bound it
// (`into`), else made whole (`whole`) and copied there.
template <class Into, class Whole>
std::size_t Emit(std::size_t bound, Into&& into, Whole&& whole, const Token::OutputAlloc& alloc) {
  if (bound > 0) return into(alloc(bound));
  Bytes out = whole();
  std::copy(out.begin(), out.end(), alloc(out.size()));
  return out.size();
}

// The Bytes form of an *Into call: `run` gets an allocator over a vector sized to the bound.
template <class Run>
Bytes Collect(Run&& run) {
  Bytes out;
  out.resize(run([&](std::size_t bound) {
    out.resize(bound);
    return out.data();
  }));
  return out;
}

}  // namespace

// ---------------------------------------------------------------- encrypt / decrypt

void Token::CipherInit(Session& s, bool encrypt, const MechParams& m, CK_OBJECT_HANDLE key_handle, Bytes* iv_out) {
  const MechanismInfo& mech = MechanismFor(m.type, encrypt ? CKF_ENCRYPT : CKF_DECRYPT);
  ObjectRef key = UsableKey(key_handle, mech, encrypt ? CKA_ENCRYPT : CKA_DECRYPT, CKR_KEY_HANDLE_INVALID);
  std::lock_guard lock(s.mu);
  auto& slot = encrypt ? s.encrypt : s.decrypt;
  if (slot) Fail(CKR_OPERATION_ACTIVE, encrypt ? "an encryption is already active" : "a decryption is already active");
  std::unique_ptr<CipherOp> op = NewCipher(m, *key, encrypt);
  if (iv_out != nullptr && op->GeneratedIv() != nullptr) *iv_out = *op->GeneratedIv();
  slot = ActiveCipher{std::move(key), std::move(op), &mech, false};
}

Bytes Token::CipherUpdate(Session& s, bool encrypt, ByteView in) {
  return Collect([&](const OutputAlloc& alloc) { return CipherUpdateInto(s, encrypt, in, alloc); });
}

std::size_t Token::CipherUpdateInto(Session& s, bool encrypt, ByteView in, const OutputAlloc& alloc) {
  std::lock_guard lock(s.mu);
  auto& slot = encrypt ? s.encrypt : s.decrypt;
  if (!slot) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation");
  try {
    bool gcm = slot->mech->params == ParamKind::kGcm;
    if (!slot->mech->multipart || (gcm && !profile_.gcm_multipart)) {
      Fail(CKR_MECHANISM_INVALID, std::string(slot->mech->name) + " is single-part here; use C_Encrypt / C_Decrypt");
    }
    CheckSize(*slot->mech, in.size);
    slot->updated = true;
    CipherOp& op = *slot->op;
    return Emit(op.UpdateBound(in.size), [&](uint8_t* out) { return op.UpdateInto(in, out); }, [&] { return op.Update(in); }, alloc);
  } catch (...) {
    slot.reset();
    throw;
  }
}

Bytes Token::CipherFinal(Session& s, bool encrypt) {
  std::lock_guard lock(s.mu);
  auto& slot = encrypt ? s.encrypt : s.decrypt;
  if (!slot) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation");
  std::optional<ActiveCipher> active = std::move(slot);
  slot.reset();
  return active->op->Final();
}

Bytes Token::CipherSingle(Session& s, bool encrypt, ByteView in) {
  std::lock_guard lock(s.mu);
  auto& slot = encrypt ? s.encrypt : s.decrypt;
  if (!slot) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation");
  if (slot->updated) Fail(CKR_OPERATION_ACTIVE, "a multi-part operation is under way; finish it with C_*Final");
  std::optional<ActiveCipher> active = std::move(slot);
  slot.reset();
  CheckSize(*active->mech, in.size);
  return active->op->Once(in);
}

Bytes Token::Crypt(Session& s, bool encrypt, const MechParams& m, CK_OBJECT_HANDLE key_handle, ByteView in, Bytes* iv_out) {
  return Collect([&](const OutputAlloc& alloc) { return CryptInto(s, encrypt, m, key_handle, in, alloc, iv_out); });
}

std::size_t Token::CryptInto(Session& s, bool encrypt, const MechParams& m, CK_OBJECT_HANDLE key_handle, ByteView in, const OutputAlloc& alloc,
                             Bytes* iv_out) {
  const MechanismInfo& mech = MechanismFor(m.type, encrypt ? CKF_ENCRYPT : CKF_DECRYPT);
  ObjectRef key = UsableKey(key_handle, mech, encrypt ? CKA_ENCRYPT : CKA_DECRYPT, CKR_KEY_HANDLE_INVALID);
  {
    std::lock_guard lock(s.mu);
    if (encrypt ? s.encrypt.has_value() : s.decrypt.has_value()) Fail(CKR_OPERATION_ACTIVE, "a multi-part operation is active on this session");
  }
  CheckSize(mech, in.size);
  std::unique_ptr<CipherOp> op = NewCipher(m, *key, encrypt);
  std::size_t n = Emit(op->OnceBound(in.size), [&](uint8_t* out) { return op->OnceInto(in, out); }, [&] { return op->Once(in); }, alloc);
  if (iv_out != nullptr && op->GeneratedIv() != nullptr) *iv_out = *op->GeneratedIv();
  return n;
}

// ---------------------------------------------------------------- sign / verify

void Token::SignInit(Session& s, bool sign, const MechParams& m, CK_OBJECT_HANDLE key_handle) {
  const MechanismInfo& mech = MechanismFor(m.type, sign ? CKF_SIGN : CKF_VERIFY);
  ObjectRef key = UsableKey(key_handle, mech, sign ? CKA_SIGN : CKA_VERIFY, CKR_KEY_HANDLE_INVALID);
  std::lock_guard lock(s.mu);
  auto& slot = sign ? s.sign : s.verify;
  if (slot) Fail(CKR_OPERATION_ACTIVE, sign ? "a signature is already active" : "a verification is already active");
  std::unique_ptr<SignOp> op = NewSigner(m, *key, sign);
  slot = ActiveSign{std::move(key), &mech, std::move(op), false};
}

void Token::SignUpdate(Session& s, bool sign, ByteView in) {
  std::lock_guard lock(s.mu);
  auto& slot = sign ? s.sign : s.verify;
  if (!slot) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active operation");
  try {
    if (!slot->mech->multipart) Fail(CKR_FUNCTION_NOT_SUPPORTED, "this mechanism is single-part; use C_Sign / C_Verify");
    CheckSize(*slot->mech, in.size);
    slot->updated = true;
    slot->op->Update(in);
  } catch (...) {
    slot.reset();
    throw;
  }
}

Bytes Token::SignFinal(Session& s) {
  std::lock_guard lock(s.mu);
  if (!s.sign) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active signature");
  std::optional<ActiveSign> active = std::move(s.sign);
  s.sign.reset();
  return active->op->Sign();
}

void Token::VerifyFinal(Session& s, ByteView sig) {
  std::lock_guard lock(s.mu);
  if (!s.verify) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active verification");
  std::optional<ActiveSign> active = std::move(s.verify);
  s.verify.reset();
  active->op->Verify(sig);
}

Bytes Token::SignSingle(Session& s, ByteView in) {
  std::lock_guard lock(s.mu);
  if (!s.sign) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active signature");
  if (s.sign->updated) Fail(CKR_OPERATION_ACTIVE, "a multi-part signature is under way; finish it with C_SignFinal");
  std::optional<ActiveSign> active = std::move(s.sign);
  s.sign.reset();
  CheckSize(*active->mech, in.size);
  active->op->Update(in);
  return active->op->Sign();
}

void Token::VerifySingle(Session& s, ByteView in, ByteView sig) {
  std::lock_guard lock(s.mu);
  if (!s.verify) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active verification");
  if (s.verify->updated) Fail(CKR_OPERATION_ACTIVE, "a multi-part verification is under way; finish it with C_VerifyFinal");
  std::optional<ActiveSign> active = std::move(s.verify);
  s.verify.reset();
  CheckSize(*active->mech, in.size);
  active->op->Update(in);
  active->op->Verify(sig);
}

// The checks a one-shot C_Sign / C_Verify makes before its operation, and the operation fed with `in`.
std::unique_ptr<SignOp> Token::OneShotSigner(Session& s, const MechParams& m, CK_OBJECT_HANDLE key_handle, ByteView in, bool sign) const {
  const MechanismInfo& mech = MechanismFor(m.type, sign ? CKF_SIGN : CKF_VERIFY);
  ObjectRef key = UsableKey(key_handle, mech, sign ? CKA_SIGN : CKA_VERIFY, CKR_KEY_HANDLE_INVALID);
  {
    std::lock_guard lock(s.mu);
    if (sign ? bool(s.sign) : bool(s.verify)) {
      Fail(CKR_OPERATION_ACTIVE, sign ? "a multi-part signature is active on this session" : "a multi-part verification is active on this session");
    }
  }
  CheckSize(mech, in.size);
  std::unique_ptr<SignOp> op = NewSigner(m, *key, sign);
  op->Update(in);
  return op;
}

Bytes Token::SignOnce(Session& s, const MechParams& m, CK_OBJECT_HANDLE key_handle, ByteView in) {
  return OneShotSigner(s, m, key_handle, in, true)->Sign();
}

void Token::VerifyOnce(Session& s, const MechParams& m, CK_OBJECT_HANDLE key_handle, ByteView in, ByteView sig) {
  OneShotSigner(s, m, key_handle, in, false)->Verify(sig);
}

void Token::EndOperation(Session& s, OpKind kind) {
  std::lock_guard lock(s.mu);
  switch (kind) {
    case OpKind::kEncrypt: s.encrypt.reset(); break;
    case OpKind::kDecrypt: s.decrypt.reset(); break;
    case OpKind::kSign: s.sign.reset(); break;
    case OpKind::kVerify: s.verify.reset(); break;
    case OpKind::kDigest: s.digest.reset(); break;
  }
}

// ---------------------------------------------------------------- digest

void Token::DigestInit(Session& s, const MechParams& m) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_DIGEST);
  RequireKeyUser();
  std::lock_guard lock(s.mu);
  if (s.digest) Fail(CKR_OPERATION_ACTIVE, "a digest is already active");
  s.digest = mech.digest(m);
  s.digest_updated = false;
}

void Token::DigestUpdate(Session& s, ByteView in) {
  std::lock_guard lock(s.mu);
  if (!s.digest) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active digest");
  try {
    s.digest_updated = true;
    s.digest->Update(in);
  } catch (...) {
    s.digest.reset();  // a failed call ends the operation (PKCS#11 v3.0 §5.2)
    throw;
  }
}

void Token::DigestKey(Session& s, CK_OBJECT_HANDLE h) {
  ObjectRef key;
  try {
    key = Lookup(h, CKR_KEY_HANDLE_INVALID);
    if (key->cls != CKO_SECRET_KEY) Fail(CKR_KEY_INDIGESTIBLE, "only a secret key's value can be digested");
    if (key->sealed_away) Fail(CKR_KEY_HANDLE_INVALID, "the key's material is sealed for its owner and the users it is shared with");
  } catch (...) {
    EndOperation(s, OpKind::kDigest);
    throw;
  }
  DigestUpdate(s, key->secret.view());
}

Bytes Token::DigestFinal(Session& s) {
  std::lock_guard lock(s.mu);
  if (!s.digest) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active digest");
  std::unique_ptr<DigestOp> op = std::move(s.digest);
  return op->Final();
}

Bytes Token::DigestSingle(Session& s, ByteView in) {
  std::lock_guard lock(s.mu);
  if (!s.digest) Fail(CKR_OPERATION_NOT_INITIALIZED, "no active digest");
  if (s.digest_updated) Fail(CKR_OPERATION_ACTIVE, "a multi-part digest is under way; finish it with C_DigestFinal");
  std::unique_ptr<DigestOp> op = std::move(s.digest);
  op->Update(in);
  return op->Final();
}

Bytes Token::DigestOnce(Session& s, const MechParams& m, ByteView in) {
  const MechanismInfo& mech = MechanismFor(m.type, CKF_DIGEST);
  RequireKeyUser();
  {
    std::lock_guard lock(s.mu);
    if (s.digest) Fail(CKR_OPERATION_ACTIVE, "a multi-part digest is active on this session");
  }
  std::unique_ptr<DigestOp> op = mech.digest(m);
  op->Update(in);
  return op->Final();
}

}  // namespace hsm
