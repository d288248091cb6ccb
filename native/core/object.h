// native/core/object.h
//
// A PKCS#11 object (v3.0 §4): class, key type, readable attributes, and — for keys — the key
// material, which never leaves core except through a gated wrap. Objects are immutable after
// creation and shared by reference (ObjectRef), so operations need no object lock.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "attributes.h"
#include "bytes.h"
#include "curves.h"
#include "ossl.h"

namespace hsm {

struct Object {
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_KEY_TYPE key_type = CK_UNAVAILABLE_INFORMATION;
  Attributes attrs;           // readable attributes only; never a secret component
  SecureBytes secret;         // secret key value (CKO_SECRET_KEY)
  ossl::Pkey pkey;            // asymmetric key (public part for CKO_PUBLIC_KEY)
  const Curve* curve = nullptr;
  CK_SESSION_HANDLE creator = 0;  // for session objects: they die with this session
  std::string owner;              // the crypto user that generated, imported or unwrapped it
  std::set<std::string> shared_with;
  // Persistent token objects: the user whose signature the row carries, an admin's signature of its
  // CKA_TRUSTED (empty unless true), and whether the material is sealed away from this process's
  // user (read for its attributes only: an admin listing keys).
  std::string holder;
  Bytes endorsement;
  bool sealed_away = false;

  bool IsKey() const { return cls == CKO_SECRET_KEY || cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY; }
  bool Flag(CK_ATTRIBUTE_TYPE t) const { return attrs.BoolOr(t, false); }
  bool IsTokenObject() const { return Flag(CKA_TOKEN); }
  // Key size in the unit PKCS#11 mechanism info uses for this key type
  // (bytes for AES/generic secret, bits for RSA modulus and EC field).
  CK_ULONG KeySizeForMechanism() const;
};

using ObjectRef = std::shared_ptr<const Object>;

// A copy for copy-on-write changes (sharing, set-attribute): key material is duplicated
// explicitly, the EVP_PKEY shared (it is never modified).
std::shared_ptr<Object> CopyObject(const Object& o);

}  // namespace hsm
