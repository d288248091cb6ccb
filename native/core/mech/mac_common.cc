// native/core/mech/mac_common.cc
#include "mac_common.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace hsm {

namespace {

// An HMAC context with its digest set and no key, made once per digest and duplicated for each
// operation: setting the digest fetches it by name, which cost more than MACing a kilobyte. It
// holds nothing secret.
EVP_MAC_CTX* Template(const char* mac, const char* pname, const std::string& pvalue) {
  static std::shared_mutex mu;
  static std::map<std::string, EVP_MAC_CTX*, std::less<>> templates;  // lives as long as the process
  std::string id = std::string(mac) + "/" + pname + "/" + pvalue;
  {
    std::shared_lock read(mu);
    if (auto it = templates.find(id); it != templates.end()) return it->second;
  }
  std::lock_guard write(mu);
  if (auto it = templates.find(id); it != templates.end()) return it->second;
  ossl::MacCtx ctx(ossl::Check(EVP_MAC_CTX_new(ossl::Mac(mac)), "EVP_MAC_CTX_new"));
  std::string value = pvalue;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(pname, value.data(), 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(ctx.get(), params) != 1) ossl::Raise(CKR_MECHANISM_INVALID, "EVP_MAC_CTX_set_params");
  return templates.emplace(id, ctx.release()).first->second;
}

class MacOp final : public SignOp {
 public:
  MacOp(const char* mac, const char* pname, const std::string& pvalue, ByteView key, std::size_t out_len) : out_len_(out_len) {
    if (std::string_view(mac) == "HMAC") {
      ctx_.reset(ossl::Check(EVP_MAC_CTX_dup(Template(mac, pname, pvalue)), "EVP_MAC_CTX_dup"));
      if (EVP_MAC_init(ctx_.get(), key.data, key.size, nullptr) != 1) ossl::Raise(CKR_KEY_SIZE_RANGE, "EVP_MAC_init");
      return;
    }
    // OpenSSL's CMAC cannot duplicate a context before it has a key: parameter and key together.
    ctx_.reset(ossl::Check(EVP_MAC_CTX_new(ossl::Mac(mac)), "EVP_MAC_CTX_new"));
    std::string value = pvalue;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(pname, value.data(), 0), OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(ctx_.get(), key.data, key.size, params) != 1) ossl::Raise(CKR_KEY_SIZE_RANGE, "EVP_MAC_init");
  }

  void Update(ByteView in) override {
    if (!in.empty() && EVP_MAC_update(ctx_.get(), in.data, in.size) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EVP_MAC_update");
  }

  Bytes Sign() override {
    Bytes full(EVP_MAX_MD_SIZE);
    std::size_t len = 0;
    if (EVP_MAC_final(ctx_.get(), full.data(), &len, full.size()) != 1) ossl::Raise(CKR_GENERAL_ERROR, "EVP_MAC_final");
    full.resize(out_len_);
    return full;
  }

  void Verify(ByteView sig) override {
    if (sig.size != out_len_) Fail(CKR_SIGNATURE_LEN_RANGE, "MAC length does not match the mechanism");
    Bytes mine = Sign();
    if (CRYPTO_memcmp(mine.data(), sig.data, out_len_) != 0) Fail(CKR_SIGNATURE_INVALID, "MAC mismatch");
  }

 private:
  ossl::MacCtx ctx_;
  std::size_t out_len_;
};

}  // namespace

std::unique_ptr<SignOp> NewMacOp(const char* mac, const char* pname, const std::string& pvalue, ByteView key,
                                 std::size_t out_len) {
  return std::make_unique<MacOp>(mac, pname, pvalue, key, out_len);
}

std::size_t MacLength(const MechParams& p, bool general, std::size_t full) {
  if (!general) {
    if (p.mac_length) Fail(CKR_MECHANISM_PARAM_INVALID, "this MAC mechanism takes no length; use the _GENERAL variant");
    return full;
  }
  CK_ULONG n = Need(p.mac_length, "macLength");
  if (n < 1 || n > full) Fail(CKR_MECHANISM_PARAM_INVALID, "macLength must be 1.." + std::to_string(full));
  return n;
}

}  // namespace hsm
