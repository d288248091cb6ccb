// native/core/store/rows.cc
#include "rows.h"

namespace hsm::rows {

namespace {
void PutLength(Bytes& out, std::size_t n) {
  for (int i = 3; i >= 0; i--) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
}
}  // namespace

std::string JoinShared(const std::set<std::string>& s) {
  std::string out;
  for (const auto& u : s) out += (out.empty() ? "" : ",") + u;
  return out;
}

std::set<std::string> SplitShared(const std::string& s) {
  std::set<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    if (comma > at) out.insert(s.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// The wraps column: for each user, its length-prefixed name and wrap.
const char* const kObjectColumns = "handle, class, key_type, label, id, owner, shared, attrs, sealed, holder, sgen, wraps, sig, tsig, gen, mac";

Bytes EncodeWraps(const std::map<std::string, Bytes>& wraps) {
  Bytes out;
  for (const auto& [name, wrap] : wraps) {
    PutLength(out, name.size());
    out.insert(out.end(), name.begin(), name.end());
    PutLength(out, wrap.size());
    Append(out, wrap);
  }
  return out;
}

std::map<std::string, Bytes> DecodeWraps(const Bytes& b) {
  std::map<std::string, Bytes> out;
  std::size_t at = 0;
  auto take = [&](Bytes* into) {
    if (b.size() - at < 4) return false;
    std::size_t n = (std::size_t{b[at]} << 24) | (std::size_t{b[at + 1]} << 16) | (std::size_t{b[at + 2]} << 8) | b[at + 3];
    at += 4;
    if (b.size() - at < n) return false;
    into->assign(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + n));
    at += n;
    return true;
  };
  while (at < b.size()) {
    Bytes name, wrap;
    if (!take(&name) || !take(&wrap)) return {{"", {}}};  // malformed: a name no user has, which opens nothing
    out[std::string(name.begin(), name.end())] = std::move(wrap);
  }
  return out;
}

StoredObject RowToObject(sql::Stmt& s) {
  StoredObject o;
  o.handle = static_cast<CK_OBJECT_HANDLE>(s.Int(0));
  o.cls = static_cast<CK_OBJECT_CLASS>(s.Int(1));
  o.key_type = static_cast<CK_KEY_TYPE>(s.Int(2));
  o.label = s.Blob(3);
  o.id = s.Blob(4);
  o.owner = s.Text(5);
  o.shared_with = SplitShared(s.Text(6));
  o.attrs = s.Blob(7);
  o.sealed = s.Blob(8);
  o.holder = s.Text(9);
  o.sgen = s.Int(10);
  o.wraps = DecodeWraps(s.Blob(11));
  o.sig = s.Blob(12);
  o.tsig = s.Blob(13);
  o.gen = s.Int(14);
  o.mac = s.Blob(15);
  return o;
}

bool IsKeyClass(CK_OBJECT_CLASS c) { return c == CKO_PUBLIC_KEY || c == CKO_PRIVATE_KEY || c == CKO_SECRET_KEY; }
bool IsAsymmetricClass(CK_OBJECT_CLASS c) { return c == CKO_PUBLIC_KEY || c == CKO_PRIVATE_KEY; }

[[noreturn]] void Tampered(const std::string& what) { Fail(CKR_SEALHSM_INTEGRITY_FAILURE, "integrity check failed for " + what); }

}  // namespace hsm::rows
