/* test/c/hardening_test.c — hostile inputs through sealhsm-pkcs11.so (issue "harden the seal"):
 * 4 GiB + 16 bytes of GCM AAD are authenticated, not truncated to 16; a PSS salt length near 2^64
 * is refused instead of wrapping into "any salt"; templates that hold themselves or nest deeply are
 * refused, not a stack overflow; a mechanism parameter at a misaligned address works.
 * Usage: hardening_test <module.so> with SEALHSM_PKCS11_CONF naming one pkcs11-profile memory slot.
 * Links libcrypto for the reference GCM tag. Prints "ok - ..." lines and "N passed, M failed". */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static CK_FUNCTION_LIST* f;

static CK_BBOOL yes = CK_TRUE;

/* AES-256-GCM tag over `aad` fed in 1 GiB pieces, as a reference. */
static void reference_tag(const CK_BYTE* key, const CK_BYTE* iv, const CK_BYTE* aad, size_t aad_len, const CK_BYTE* pt, int pt_len,
                          CK_BYTE* ct_and_tag) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int len = 0;
  EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv);
  for (size_t at = 0; at < aad_len; at += (size_t)1 << 30) {
    size_t n = aad_len - at < ((size_t)1 << 30) ? aad_len - at : ((size_t)1 << 30);
    EVP_EncryptUpdate(c, NULL, &len, aad + at, (int)n);
  }
  EVP_EncryptUpdate(c, ct_and_tag, &len, pt, pt_len);
  EVP_EncryptFinal_ex(c, ct_and_tag + len, &len);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct_and_tag + pt_len);
  EVP_CIPHER_CTX_free(c);
}

static void gcm_large_aad(CK_SESSION_HANDLE s) {
  CK_BYTE key[32], iv[12], pt[16], want[32], got[32];
  for (int i = 0; i < 32; i++) key[i] = (CK_BYTE)(i * 7 + 1);
  memset(iv, 9, sizeof iv);
  memset(pt, 5, sizeof pt);
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE kt = CKK_AES;
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_VALUE, key, sizeof key}, {CKA_ENCRYPT, &yes, 1}};
  CK_OBJECT_HANDLE k = 0;
  CHECK(f->C_CreateObject(s, t, 4, &k) == CKR_OK, "an AES key to test GCM with");
  size_t aad_len = ((size_t)1 << 32) + 16; /* (int) of this is 16 */
  CK_BYTE* aad = calloc(aad_len, 1);
  if (aad == NULL) {
    CHECK(0, "4 GiB of AAD could not be allocated");
    return;
  }
  CK_GCM_PARAMS gp = {iv, sizeof iv, 96, aad, (CK_ULONG)aad_len, 128};
  CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof gp};
  CK_ULONG n = sizeof got;
  CK_RV rv = f->C_EncryptInit(s, &m, k);
  if (rv == CKR_OK) rv = f->C_Encrypt(s, pt, sizeof pt, got, &n);
  reference_tag(key, iv, aad, aad_len, pt, sizeof pt, want);
  CHECK(rv == CKR_OK && n == 32 && memcmp(got, want, 32) == 0, "GCM with 4 GiB + 16 bytes of AAD authenticates all of it");
  reference_tag(key, iv, aad, 16, pt, sizeof pt, want);
  CHECK(memcmp(got + 16, want + 16, 16) != 0, "... and not only its first 16 bytes");
  free(aad);

  /* The same parameter structure at an odd address (pParameter need not be aligned). */
  unsigned char raw[sizeof(CK_GCM_PARAMS) + 1];
  CK_BYTE small_aad[3] = {1, 2, 3};
  CK_GCM_PARAMS aligned = {iv, sizeof iv, 96, small_aad, sizeof small_aad, 128};
  memcpy(raw + 1, &aligned, sizeof aligned);
  CK_MECHANISM odd = {CKM_AES_GCM, raw + 1, sizeof aligned};
  n = sizeof got;
  rv = f->C_EncryptInit(s, &odd, k);
  if (rv == CKR_OK) rv = f->C_Encrypt(s, pt, sizeof pt, got, &n);
  reference_tag(key, iv, small_aad, sizeof small_aad, pt, sizeof pt, want);
  CHECK(rv == CKR_OK && n == 32 && memcmp(got, want, 32) == 0, "a misaligned CK_GCM_PARAMS is read correctly");
}

static void pss_salt(CK_SESSION_HANDLE s) {
  CK_ULONG bits = 2048;
  CK_BYTE e[] = {1, 0, 1};
  CK_ATTRIBUTE pub[] = {{CKA_MODULUS_BITS, &bits, sizeof bits}, {CKA_PUBLIC_EXPONENT, e, sizeof e}, {CKA_VERIFY, &yes, 1}};
  CK_ATTRIBUTE priv[] = {{CKA_SIGN, &yes, 1}};
  CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
  CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
  CHECK(f->C_GenerateKeyPair(s, &gen, pub, 3, priv, 1, &hpub, &hpriv) == CKR_OK, "an RSA key pair for PSS");
  CK_BYTE digest[32] = {7};
  CK_RSA_PKCS_PSS_PARAMS good = {CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM m = {CKM_RSA_PKCS_PSS, &good, sizeof good};
  CK_BYTE sig[256];
  CK_ULONG n = sizeof sig;
  CHECK(f->C_SignInit(s, &m, hpriv) == CKR_OK && f->C_Sign(s, digest, sizeof digest, sig, &n) == CKR_OK, "a PSS signature with a 32-byte salt");
  CK_ULONG wraps[] = {(CK_ULONG)-1, (CK_ULONG)-2, (CK_ULONG)-10, (CK_ULONG)-34};
  int refused = 0;
  for (int i = 0; i < 4; i++) {
    CK_RSA_PKCS_PSS_PARAMS bad = {CKM_SHA256, CKG_MGF1_SHA256, wraps[i]};
    CK_MECHANISM mb = {CKM_RSA_PKCS_PSS, &bad, sizeof bad};
    CK_RV rv = f->C_VerifyInit(s, &mb, hpub);
    if (rv == CKR_OK) rv = f->C_Verify(s, digest, sizeof digest, sig, n);
    refused += rv == CKR_MECHANISM_PARAM_INVALID;
  }
  CHECK(refused == 4, "a salt length near 2^64 is CKR_MECHANISM_PARAM_INVALID, never 'any salt'");
}

static void nesting(CK_SESSION_HANDLE s) {
  CK_ULONG len = 32;
  CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
  CK_ATTRIBUTE self[2];
  self[0] = (CK_ATTRIBUTE){CKA_VALUE_LEN, &len, sizeof len};
  self[1] = (CK_ATTRIBUTE){CKA_WRAP_TEMPLATE, self, sizeof self};
  CK_OBJECT_HANDLE k = 0;
  CHECK(f->C_GenerateKey(s, &gen, self, 2, &k) == CKR_ATTRIBUTE_VALUE_INVALID, "a template that holds itself: CKR_ATTRIBUTE_VALUE_INVALID");
  enum { kDepth = 30000 };
  CK_ATTRIBUTE* chain = calloc(kDepth + 1, sizeof *chain);
  chain[kDepth] = (CK_ATTRIBUTE){CKA_VALUE_LEN, &len, sizeof len};
  for (int i = kDepth - 1; i >= 0; i--) chain[i] = (CK_ATTRIBUTE){CKA_WRAP_TEMPLATE, &chain[i + 1], sizeof(CK_ATTRIBUTE)};
  CK_ATTRIBUTE outer[] = {{CKA_VALUE_LEN, &len, sizeof len}, chain[0]};
  CHECK(f->C_GenerateKey(s, &gen, outer, 2, &k) == CKR_ATTRIBUTE_VALUE_INVALID, "30,000 nested templates: CKR_ATTRIBUTE_VALUE_INVALID");
  free(chain);
  CK_ATTRIBUTE inner[] = {{CKA_EXTRACTABLE, &yes, 1}};
  CK_ATTRIBUTE one[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_WRAP_TEMPLATE, inner, sizeof inner}};
  CHECK(f->C_GenerateKey(s, &gen, one, 2, &k) == CKR_OK, "one level of nesting is fine");
}

/* CKM_SP800_108_COUNTER_KDF with the standard CK_SP800_108_KDF_PARAMS: [i]_32 || fixed || [L]_32. */
static void sp800_108_standard(CK_SESSION_HANDLE s) {
  CK_BYTE secret[32];
  for (int i = 0; i < 32; i++) secret[i] = (CK_BYTE)(0x40 + i);
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE gen = CKK_GENERIC_SECRET;
  CK_ATTRIBUTE bt[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &gen, sizeof gen}, {CKA_VALUE, secret, sizeof secret}, {CKA_DERIVE, &yes, 1}};
  CK_OBJECT_HANDLE base = 0;
  f->C_CreateObject(s, bt, 4, &base);
  CK_BYTE fixed[] = "fixed input data";
  CK_SP800_108_COUNTER_FORMAT counter = {CK_FALSE, 32};
  CK_SP800_108_DKM_LENGTH_FORMAT dkm = {CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS, CK_FALSE, 32};
  CK_PRF_DATA_PARAM data[] = {{CK_SP800_108_ITERATION_VARIABLE, &counter, sizeof counter}, {CK_SP800_108_BYTE_ARRAY, fixed, sizeof fixed - 1},
                              {CK_SP800_108_DKM_LENGTH, &dkm, sizeof dkm}};
  CK_SP800_108_KDF_PARAMS params = {CKM_SHA256_HMAC, 3, data, 0, NULL};
  CK_MECHANISM m = {CKM_SP800_108_COUNTER_KDF, &params, sizeof params};
  CK_ULONG len = 32;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE dt[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &gen, sizeof gen}, {CKA_VALUE_LEN, &len, sizeof len},
                       {CKA_SENSITIVE, &no, 1}, {CKA_EXTRACTABLE, &yes, 1}};
  CK_OBJECT_HANDLE derived = 0;
  CHECK(f->C_DeriveKey(s, &m, base, dt, 5, &derived) == CKR_OK, "CKM_SP800_108_COUNTER_KDF with CK_SP800_108_KDF_PARAMS");
  CK_BYTE got[32], input[4 + sizeof fixed - 1 + 4], want[32];
  CK_ATTRIBUTE v = {CKA_VALUE, got, sizeof got};
  size_t at = 0, wl = 0;
  input[at++] = 0, input[at++] = 0, input[at++] = 0, input[at++] = 1;
  memcpy(input + at, fixed, sizeof fixed - 1), at += sizeof fixed - 1;
  input[at++] = 0, input[at++] = 0, input[at++] = 1, input[at++] = 0;
  EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, sizeof secret, input, at, want, sizeof want, &wl);
  CHECK(f->C_GetAttributeValue(s, derived, &v, 1) == CKR_OK && memcmp(got, want, 32) == 0, "... gives PRF(K, [1]_32 || fixed input || [L]_32)");
  CK_SP800_108_COUNTER_FORMAT little = {CK_TRUE, 32};
  data[0].pValue = &little;
  CHECK(f->C_DeriveKey(s, &m, base, dt, 5, &derived) == CKR_MECHANISM_PARAM_INVALID, "... and a layout OpenSSL's KBKDF cannot compute is refused");
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  CK_SLOT_ID slot = open_module(argv[1], &f);
  CK_UTF8CHAR label[32];
  memset(label, ' ', sizeof label);
  CHECK(f->C_InitToken(slot, (CK_UTF8CHAR*)"so-pin-0000", 11, label) == CKR_OK, "C_InitToken");
  CK_SESSION_HANDLE s = 0;
  f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
  f->C_Login(s, CKU_SO, (CK_UTF8CHAR*)"so-pin-0000", 11);
  f->C_InitPIN(s, (CK_UTF8CHAR*)"user-pin-0", 10);
  f->C_Logout(s);
  CHECK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR*)"user-pin-0", 10) == CKR_OK, "user login");
  nesting(s);
  sp800_108_standard(s);
  pss_salt(s);
  gcm_large_aad(s);
  f->C_Finalize(NULL);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
