// native/core/token_migrate.cc
//
// `sealhsm token migrate`: a token of format 2 rewritten as format 3 (per-user sealing). The old
// token is read and verified whole with every user's password (store/legacy_v2.cc) before anything
// is written; the new one is built beside it through the ordinary paths — activation, each user
// created with its own password, each object stored by its holder under its old handle — and then
// takes the old one's place, which stays as <dir>.format2 until the operator removes it.
#include <sys/stat.h>

#include <cstdio>

#include "keys.h"
#include "pkcs8.h"
#include "store/legacy_v2.h"
#include "store/operator_log.h"
#include "token.h"
#include "token_formats.h"

namespace hsm {

namespace {

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

}  // namespace

std::string Token::Migrate(const std::string& dir, const std::map<std::string, SecureBytes>& passwords) {
  std::string old_copy = dir + ".format2", building = dir + ".migrating";
  if (Exists(old_copy)) Fail(CKR_ARGUMENTS_BAD, old_copy + " exists already: move it away first");
  if (Exists(building)) Fail(CKR_ARGUMENTS_BAD, building + " exists (an interrupted migration?): remove it first");
  legacy::LegacyToken old = legacy::Read(dir, passwords);  // every check before anything is written
  const Profile& profile = ProfileByName(old.profile);
  std::string admin = profile.admin_name;
  {
    StoreOptions o;
    o.create = true;
    o.profile = old.profile;
    o.label = old.label;
    o.max_failed_logins = old.max_failed_logins;
    Token t(profile, TokenStore::Open(building, o), std::nullopt);
    t.Activate(passwords.at(admin).view());
    t.Login(admin, passwords.at(admin).view());
    for (const auto& [name, role] : old.users) {
      if (name != admin) t.CreateUser(name, passwords.at(name).view(), role);
    }
    SecureBytes admin_seed = t.me_->admin_private.CloneSecret();  // endorses the CKA_TRUSTED the old token had
    t.Logout();
    // Who holds each object: its owner (CloudHSM); for pkcs11, whose objects have no owner, the
    // normal user, or the SO where there is none.
    auto holder_of = [&](const legacy::LegacyObject& o) {
      if (!o.owner.empty()) return o.owner;
      for (const auto& [name, role] : old.users) {
        if (role == Role::kCryptoUser) return name;
      }
      return admin;
    };
    for (const auto& [name, role] : old.users) {
      bool logged_in = false;
      for (const legacy::LegacyObject& lo : old.objects) {
        if (holder_of(lo) != name) continue;
        if (!logged_in) {
          t.Login(name, passwords.at(name).view());
          logged_in = true;
        }
        auto obj = std::make_shared<Object>();
        obj->cls = lo.cls;
        obj->key_type = obj->IsKey() ? lo.key_type : CK_UNAVAILABLE_INFORMATION;
        obj->attrs = Attributes::FromTemplate(DecodeTemplate(lo.attrs));
        obj->owner = lo.owner;
        obj->shared_with = lo.shared_with;
        if (lo.cls == CKO_SECRET_KEY) {
          obj->secret = lo.material.CloneSecret();
        } else if (lo.cls == CKO_PRIVATE_KEY) {
          obj->pkey = DecodePkcs8(lo.material.view(), obj->key_type, &obj->curve, /*validate=*/false);
        }
        if (obj->Flag(CKA_TRUSTED)) {
          StoredObject at;
          at.handle = lo.handle;
          at.holder = name;
          obj->endorsement = userkeys::Sign(admin_seed.view(), formats::TrustMessage(t.store_->token_id(), at));
        }
        t.StoreTokenObjects({obj}, lo.handle);
      }
      if (logged_in) t.Logout();
    }
    t.store_->ReserveHandles(old.next_handle);  // after: each object above took its own handle
  }
  AppendOperatorLog(building, "migrated from token format 2 (" + std::to_string(old.objects.size()) + " objects, " +
                                  std::to_string(old.users.size()) + " users); the old token is " + old_copy);
  if (rename(dir.c_str(), old_copy.c_str()) != 0) Fail(CKR_DEVICE_ERROR, "cannot move " + dir + " to " + old_copy);
  if (rename(building.c_str(), dir.c_str()) != 0) {
    Fail(CKR_DEVICE_ERROR, "moved the old token to " + old_copy + " but cannot move " + building + " to " + dir + ": move it by hand");
  }
  return old_copy;
}

}  // namespace hsm
