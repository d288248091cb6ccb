// native/core/token_formats.cc
#include "token_formats.h"

#include "attributes.h"
#include "store/state_mac.h"

namespace hsm::formats {

namespace {

statemac::Message Scoped(const char* domain, ByteView token_id) {
  statemac::Message m(domain);
  m.Add(token_id);
  return m;
}

// The stored attributes without CKA_TRUSTED.
Bytes AttributesSigned(const Bytes& attrs) {
  Template all;
  try {
    all = DecodeTemplate(attrs);
  } catch (const Error&) {
    return attrs;  // malformed: signed (and checked) as the bytes they are
  }
  Template kept;
  for (auto& [type, value] : all) {
    if (type != CKA_TRUSTED) kept.emplace_back(type, std::move(value));
  }
  return EncodeTemplate(kept);
}

}  // namespace

Bytes KeysAad(ByteView token_id, const std::string& profile, const User& u, ByteView admin_public) {
  statemac::Message m = Scoped("sealhsm user keys v3", token_id);
  m.Add(profile).Add(u.name).Add(std::string(RoleName(u.role))).Add(admin_public);
  return m.bytes();
}

Bytes CertMessage(ByteView token_id, const User& u) {
  statemac::Message m = Scoped("sealhsm user certificate v3", token_id);
  m.Add(u.name).Add(std::string(RoleName(u.role))).Add(u.kx_public).Add(u.sign_public);
  return m.bytes();
}

Bytes UnsealAad(ByteView token_id, const std::string& user) {
  statemac::Message m = Scoped("sealhsm unseal v3", token_id);
  m.Add(user);
  return m.bytes();
}

Bytes PayloadAad(ByteView token_id, const StoredObject& row) {
  statemac::Message m = Scoped("sealhsm object material v3", token_id);
  m.Add(static_cast<uint64_t>(row.handle)).Add(static_cast<uint64_t>(row.cls)).Add(static_cast<uint64_t>(row.key_type));
  m.Add(row.holder).Add(row.owner);
  return m.bytes();
}

Bytes OwnerWrapAad(ByteView token_id, CK_OBJECT_HANDLE h, const std::string& user) {
  statemac::Message m = Scoped("sealhsm holder wrap v3", token_id);
  m.Add(static_cast<uint64_t>(h)).Add(user);
  return m.bytes();
}

Bytes ShareAad(ByteView token_id, CK_OBJECT_HANDLE h, const std::string& user) {
  statemac::Message m = Scoped("sealhsm share wrap v3", token_id);
  m.Add(static_cast<uint64_t>(h)).Add(user);
  return m.bytes();
}

Bytes RowMessage(ByteView token_id, const StoredObject& row) {
  statemac::Message m = Scoped("sealhsm signed row v3", token_id);
  m.Add(static_cast<uint64_t>(row.handle)).Add(static_cast<uint64_t>(row.cls)).Add(static_cast<uint64_t>(row.key_type));
  m.Add(row.label).Add(row.id).Add(row.owner).Add(AttributesSigned(row.attrs)).Add(row.sealed).Add(row.holder);
  m.Add(static_cast<uint64_t>(row.sgen));
  return m.bytes();
}

Bytes TrustMessage(ByteView token_id, const StoredObject& row) {
  statemac::Message m = Scoped("sealhsm trusted v3", token_id);
  m.Add(static_cast<uint64_t>(row.handle)).Add(row.holder);
  return m.bytes();
}

}  // namespace hsm::formats
