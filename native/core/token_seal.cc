// native/core/token_seal.cc
//
// How a persistent token's objects are sealed and read back (token format 3, DESIGN "The sealed
// slot"). Each object with key material gets its own data key; the material is sealed under it
// (AES-256-GCM), and the data key is wrapped for each user who may open it: under the holder's own
// seal key, and to every other reader's X25519 key (a share). The holder — the user who wrote the
// row — signs it with its Ed25519 key, which the token's admin key certifies. So a user with
// token.db and its own password opens only what it holds or was given, and can change no row of
// another user's without the change being seen.
#include <openssl/x509.h>

#include "keys.h"
#include "pkcs8.h"
#include "store/seal.h"
#include "token.h"
#include "token_formats.h"

namespace hsm {

namespace {

[[noreturn]] void Tampered(const std::string& what) { Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + what); }

bool HasMaterial(CK_OBJECT_CLASS cls) { return cls == CKO_SECRET_KEY || cls == CKO_PRIVATE_KEY; }

}  // namespace

Token::Secrets Token::Writer() const {
  std::lock_guard lock(auth_mu_);
  return me_ ? me_ : unsealed_;
}

std::optional<User> Token::CertifiedUser(const std::string& name) const {
  std::optional<User> u;
  Bytes admin;
  {
    std::lock_guard lock(auth_mu_);
    if (const User* found = users_.Find(name)) u = *found;
    admin = admin_public_;
  }
  if (!u) return std::nullopt;
  Bytes message = formats::CertMessage(store_->token_id(), *u);
  std::string id(message.begin(), message.end());
  id.append(u->cert.begin(), u->cert.end());
  std::lock_guard lock(certs_mu_);
  if (certified_.count(id) == 0) {
    if (!userkeys::Verify(admin, message, u->cert)) {
      Tampered("user '" + name + "': its public keys are not certified by the token's admin key (its record was replaced)");
    }
    certified_.insert(std::move(id));
  }
  return u;
}

std::map<std::string, Bytes> Token::Recipients(const Object& o, const std::string& writer) const {
  std::set<std::string> names;
  if (profile_.ownership) {
    names = o.shared_with;
  } else {
    // PKCS#11: a private object is the normal user's alone; a public one any logged-in user's.
    std::lock_guard lock(auth_mu_);
    for (const User& u : users_.All()) {
      if (!o.Flag(CKA_PRIVATE) || u.role == Role::kCryptoUser) names.insert(u.name);
    }
  }
  names.erase(writer);
  std::map<std::string, Bytes> out;
  for (const std::string& name : names) {
    std::optional<User> u = CertifiedUser(name);
    if (!u) Fail(CKR_ARGUMENTS_BAD, "no user '" + name + "' to share with");
    out.emplace(name, u->kx_public);
  }
  return out;
}

TokenStore::Sealer Token::Resealer(const Object& o) const {
  Secrets writer = Writer();
  if (!writer) Fail(CKR_USER_NOT_LOGGED_IN, "log in to write the token's objects (each row is signed by the user who writes it)");
  auto payload = std::make_shared<SecureBytes>(Payload(o));
  bool material = HasMaterial(o.cls);
  bool trusted = o.Flag(CKA_TRUSTED);
  auto recipients = Recipients(o, writer->name);
  Bytes endorsement = o.endorsement;
  Bytes admin;
  {
    std::lock_guard lock(auth_mu_);
    admin = admin_public_;
  }
  Bytes id = ToBytes(store_->token_id());
  return [writer, payload, material, trusted, recipients, endorsement, admin, id](StoredObject& row) {
    row.sealed.clear();
    row.wraps.clear();
    if (material) {
      SecureBytes dek(32);
      ossl::RandomInto(dek.data(), dek.size());
      row.sealed = seal::Seal(dek.view(), formats::PayloadAad(id, row), payload->view());
      row.wraps[writer->name] = seal::Seal(writer->seal_key.view(), formats::OwnerWrapAad(id, row.handle, writer->name), dek.view());
      for (const auto& [name, kx] : recipients) row.wraps[name] = userkeys::ShareWrap(kx, formats::ShareAad(id, row.handle, name), dek.view());
    }
    row.sig = userkeys::Sign(*writer, formats::RowMessage(id, row));
    row.tsig.clear();
    if (!trusted) return;
    if (!endorsement.empty() && userkeys::Verify(admin, formats::TrustMessage(id, row), endorsement)) {
      row.tsig = endorsement;  // the holder changed a row an admin trusts: the endorsement stands
    } else if (!writer->admin_private.empty()) {
      row.tsig = userkeys::Sign(writer->admin_private.view(), formats::TrustMessage(id, row));
    } else {
      Fail(CKR_ATTRIBUTE_READ_ONLY, "CKA_TRUSTED is set by the SO or an admin only");
    }
  };
}

void Token::Endorse(StoredObject& row) const {
  Secrets writer = Writer();
  if (!row.attrs.empty() && Attributes::FromTemplate(DecodeTemplate(row.attrs)).BoolOr(CKA_TRUSTED, false)) {
    if (!writer || writer->admin_private.empty()) Fail(CKR_ATTRIBUTE_READ_ONLY, "CKA_TRUSTED is set by the SO or an admin only");
    row.tsig = userkeys::Sign(writer->admin_private.view(), formats::TrustMessage(store_->token_id(), row));
  } else {
    row.tsig.clear();
  }
}

ObjectRef Token::LoadStored(const StoredObject& row) const {
  ByteView id = store_->token_id();
  std::string what = DescribeObject(row);
  std::optional<User> holder = CertifiedUser(row.holder);
  if (!holder) Tampered(what + ": it is signed by '" + row.holder + "', who is no user of this token");
  if (!userkeys::Verify(holder->sign_public, formats::RowMessage(id, row), row.sig)) {
    Tampered(what + ": its signature by '" + row.holder + "' does not verify (the row was changed by someone else)");
  }
  if (profile_.ownership && row.owner != row.holder) Tampered(what + ": its owner is not the user who signed it");
  auto obj = std::make_shared<Object>();
  obj->cls = row.cls;
  obj->key_type = obj->IsKey() ? row.key_type : CK_UNAVAILABLE_INFORMATION;
  try {
    obj->attrs = Attributes::FromTemplate(DecodeTemplate(row.attrs));
  } catch (const Error&) {
    Tampered(what + ": its attributes are malformed");
  }
  obj->owner = row.owner;
  obj->shared_with = row.shared_with;
  obj->holder = row.holder;
  obj->endorsement = row.tsig;
  if (obj->Flag(CKA_TRUSTED)) {
    Bytes admin;
    {
      std::lock_guard lock(auth_mu_);
      admin = admin_public_;
    }
    if (!userkeys::Verify(admin, formats::TrustMessage(id, row), row.tsig)) Tampered(what + ": its CKA_TRUSTED was not set by an admin");
  }
  if (HasMaterial(row.cls)) {
    if (row.sealed.empty()) Tampered(what + ": its key material is missing");
    Secrets me = Writer();
    auto wrap = me ? row.wraps.find(me->name) : row.wraps.end();
    if (wrap == row.wraps.end() && me && me->name == row.holder) Tampered(what + ": its holder's own wrap is missing");
    if (wrap == row.wraps.end()) {
      obj->sealed_away = true;  // its attributes only: the material is sealed for others
      return obj;
    }
    SecureBytes dek = me->name == row.holder ? seal::Open(me->seal_key.view(), formats::OwnerWrapAad(id, row.handle, me->name), wrap->second, what)
                                             : userkeys::ShareOpen(*me, formats::ShareAad(id, row.handle, me->name), wrap->second, what);
    SecureBytes payload = seal::Open(dek.view(), formats::PayloadAad(id, row), row.sealed, what);
    if (obj->cls == CKO_SECRET_KEY) {
      obj->secret = std::move(payload);
    } else {
      obj->pkey = DecodePkcs8(payload.view(), obj->key_type, &obj->curve, /*validate=*/false);
    }
  } else if (obj->cls == CKO_PUBLIC_KEY) {
    const Bytes& spki = obj->attrs.Get(CKA_PUBLIC_KEY_INFO);
    const unsigned char* p = spki.data();
    EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
    if (k == nullptr) Tampered(what + ": bad public key");
    obj->pkey = ossl::AdoptPkey(k);
    if (const Bytes* params = obj->attrs.Find(CKA_EC_PARAMS)) obj->curve = &CurveFromParams(*params);
  }
  return obj;
}

}  // namespace hsm
