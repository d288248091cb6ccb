// native/core/token_formats.h
//
// The byte strings token format 3 seals, signs and binds (docs/design/per-user-sealing.md), in one
// place so the writer and the reader cannot drift apart: each is a statemac::Message with its own
// domain, so no two of them encode alike. No keys here.
#pragma once

#include <string>

#include "store/token_store.h"
#include "users.h"

namespace hsm::formats {

// A user's wrap of the state key and its UK, under the user's KEK: bound to the token, the profile,
// the user, the role and the token's admin key (a header whose admin key was swapped opens nobody).
Bytes KeysAad(ByteView token_id, const std::string& profile, const User& u, ByteView admin_public);
// The admin key's certificate of a user: its name, role and public keys.
Bytes CertMessage(ByteView token_id, const User& u);
// The unseal key's wrap of one user's keys.
Bytes UnsealAad(ByteView token_id, const std::string& user);
// An object's material under its data key: bound to the row's identity (not to its attributes,
// which the holder's signature binds, so an admin may endorse CKA_TRUSTED without the material).
Bytes PayloadAad(ByteView token_id, const StoredObject& row);
// The data key for its holder (under the holder's seal key) and for another reader (a share).
Bytes OwnerWrapAad(ByteView token_id, CK_OBJECT_HANDLE h, const std::string& user);
Bytes ShareAad(ByteView token_id, CK_OBJECT_HANDLE h, const std::string& user);
// What the holder signs: every column but the shares, the wraps, the token generation and
// CKA_TRUSTED (an admin's to set, endorsed by TrustMessage).
Bytes RowMessage(ByteView token_id, const StoredObject& row);
Bytes TrustMessage(ByteView token_id, const StoredObject& row);

}  // namespace hsm::formats
