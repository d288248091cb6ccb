// native/core/rsa_check.cc
#include "rsa_check.h"

#include <memory>
#include <string>

#include "ossl.h"

namespace hsm {

namespace {

struct CtxEnd {
  void operator()(BN_CTX* c) const {
    BN_CTX_end(c);
    BN_CTX_free(c);  // clears every temporary
  }
};

}  // namespace

void CheckRsaNumbers(const RsaNumbers& k, CK_RV bad) {
  auto fail = [bad](const std::string& what) { Fail(bad, "the RSA private key is not consistent: " + what); };
  if (BN_cmp(k.d, BN_value_one()) <= 0 || BN_cmp(k.d, k.n) >= 0) fail("d is not in (1, n)");
  if (k.p == nullptr) return;  // d alone: the pairwise test is what checks it
  std::unique_ptr<BN_CTX, CtxEnd> ctx(ossl::Check(BN_CTX_secure_new(), "BN_CTX_secure_new"));
  BN_CTX* c = ctx.get();
  BN_CTX_start(c);
  BIGNUM *t = BN_CTX_get(c), *pm1 = BN_CTX_get(c), *qm1 = BN_CTX_get(c);
  if (qm1 == nullptr) ossl::Raise(CKR_HOST_MEMORY, "BN_CTX_get");
  for (BIGNUM* b : {t, pm1, qm1}) BN_set_flags(b, BN_FLG_CONSTTIME);
  if (BN_num_bits(k.p) < 256 || BN_num_bits(k.q) < 256 || BN_cmp(k.p, k.q) == 0) fail("p and q must be distinct, of 256 bits or more");
  if (BN_mul(t, k.p, k.q, c) != 1) ossl::Raise(CKR_HOST_MEMORY, "BN_mul");
  if (BN_cmp(t, k.n) != 0) fail("n is not p·q");
  if (BN_sub(pm1, k.p, BN_value_one()) != 1 || BN_sub(qm1, k.q, BN_value_one()) != 1) ossl::Raise(CKR_HOST_MEMORY, "BN_sub");
  if (BN_mod(t, k.d, pm1, c) != 1) ossl::Raise(CKR_HOST_MEMORY, "BN_mod");
  if (BN_cmp(t, k.dp) != 0) fail("dp is not d mod (p-1)");
  if (BN_mod(t, k.d, qm1, c) != 1) ossl::Raise(CKR_HOST_MEMORY, "BN_mod");
  if (BN_cmp(t, k.dq) != 0) fail("dq is not d mod (q-1)");
  if (BN_cmp(k.qi, k.p) >= 0 || BN_mod_mul(t, k.qi, k.q, k.p, c) != 1 || !BN_is_one(t)) fail("qi is not the inverse of q mod p");
  if (BN_mod_mul(t, k.e, k.dp, pm1, c) != 1 || !BN_is_one(t)) fail("d does not invert e mod (p-1)");
  if (BN_mod_mul(t, k.e, k.dq, qm1, c) != 1 || !BN_is_one(t)) fail("d does not invert e mod (q-1)");
}

}  // namespace hsm
