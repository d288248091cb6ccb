/* test/c/cloudhsm_samples_test.c — what AWS's published CloudHSM PKCS#11 sample programs do, through
 * sealhsm-pkcs11.so on a cloudhsm-profile slot: RSA keys made with CKM_RSA_X9_31_KEY_PAIR_GEN and used
 * for SHA256-RSA-PKCS; AES-GCM key wrapping with the HSM-generated IV written back into pIv and an
 * unwrap that round-trips; a private key wrapped and unwrapped with CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD;
 * C_FindObjects(h, NULL, n, &count) answering the count; the SP 800-108 counter KDF with CloudHSM's
 * vendor parameter structures, checked against HMAC-SHA256 from libcrypto.
 * Usage: cloudhsm_samples_test <module.so> with SEALHSM_PKCS11_CONF naming one cloudhsm slot where
 * crypto user cu1 (password cu1-password) exists. Prints "ok - ..." lines and "N passed, M failed". */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static CK_FUNCTION_LIST* f;

static CK_BBOOL yes = CK_TRUE;

static void rsa_x931(CK_SESSION_HANDLE s) {
  CK_ULONG bits = 2048;
  CK_BYTE e[] = {1, 0, 1};
  CK_ATTRIBUTE pub[] = {{CKA_MODULUS_BITS, &bits, sizeof bits}, {CKA_PUBLIC_EXPONENT, e, sizeof e}, {CKA_VERIFY, &yes, 1}};
  CK_ATTRIBUTE priv[] = {{CKA_SIGN, &yes, 1}};
  CK_MECHANISM gen = {CKM_RSA_X9_31_KEY_PAIR_GEN, NULL, 0};
  CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
  CHECK(f->C_GenerateKeyPair(s, &gen, pub, 3, priv, 1, &hpub, &hpriv) == CKR_OK, "CKM_RSA_X9_31_KEY_PAIR_GEN makes an RSA-2048 pair");
  CK_MECHANISM_TYPE how = 0;
  CK_ATTRIBUTE q = {CKA_KEY_GEN_MECHANISM, &how, sizeof how};
  CHECK(f->C_GetAttributeValue(s, hpriv, &q, 1) == CKR_OK && how == CKM_RSA_X9_31_KEY_PAIR_GEN, "... and says so in CKA_KEY_GEN_MECHANISM");
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_BYTE msg[] = "signed as the samples sign", sig[256];
  CK_ULONG n = sizeof sig;
  CHECK(f->C_SignInit(s, &m, hpriv) == CKR_OK && f->C_Sign(s, msg, sizeof msg, sig, &n) == CKR_OK, "... which signs with CKM_SHA256_RSA_PKCS");
  CHECK(f->C_VerifyInit(s, &m, hpub) == CKR_OK && f->C_Verify(s, msg, sizeof msg, sig, n) == CKR_OK, "... and verifies");
}

static CK_OBJECT_HANDLE aes(CK_SESSION_HANDLE s, CK_BBOOL extractable) {
  CK_ULONG len = 32;
  CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_EXTRACTABLE, &extractable, 1}, {CKA_WRAP, &yes, 1}, {CKA_UNWRAP, &yes, 1},
                      {CKA_ENCRYPT, &yes, 1}, {CKA_DECRYPT, &yes, 1}};
  CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
  CK_OBJECT_HANDLE k = 0;
  f->C_GenerateKey(s, &gen, t, 6, &k);
  return k;
}

/* The same 16-byte block encrypted with AES-ECB under two keys: equal iff the keys are. */
static int same_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE a, CK_OBJECT_HANDLE b) {
  CK_BYTE block[16] = {1, 2, 3}, ca[16], cb[16];
  CK_ULONG na = 16, nb = 16;
  CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
  return f->C_EncryptInit(s, &ecb, a) == CKR_OK && f->C_Encrypt(s, block, 16, ca, &na) == CKR_OK && f->C_EncryptInit(s, &ecb, b) == CKR_OK &&
         f->C_Encrypt(s, block, 16, cb, &nb) == CKR_OK && memcmp(ca, cb, 16) == 0;
}

static void gcm_wrap(CK_SESSION_HANDLE s) {
  CK_OBJECT_HANDLE kek = aes(s, CK_FALSE), target = aes(s, CK_TRUE);
  CK_BYTE iv[12] = {0}, zero[12] = {0}, wrapped[128];
  CK_GCM_PARAMS gp = {iv, sizeof iv, 96, NULL, 0, 128};
  CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof gp};
  CK_ULONG n = 0;
  CHECK(f->C_WrapKey(s, &m, kek, target, NULL, &n) == CKR_OK && n == 48, "C_WrapKey with CKM_AES_GCM: the size query");
  CHECK(f->C_WrapKey(s, &m, kek, target, wrapped, &n) == CKR_OK && n == 48, "... and the wrap");
  CHECK(memcmp(iv, zero, sizeof iv) != 0, "... writes the IV the HSM generated into pIv, as C_EncryptInit does");
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE kt = CKK_AES;
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_ENCRYPT, &yes, 1}};
  CK_OBJECT_HANDLE back = 0;
  CHECK(f->C_UnwrapKey(s, &m, kek, wrapped, n, t, 3, &back) == CKR_OK && same_key(s, target, back), "... and C_UnwrapKey with that IV gives the key back");
}

static void zero_pad_private(CK_SESSION_HANDLE s) {
  CK_BYTE params[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  CK_ATTRIBUTE pub[] = {{CKA_EC_PARAMS, params, sizeof params}, {CKA_VERIFY, &yes, 1}};
  CK_ATTRIBUTE priv[] = {{CKA_SIGN, &yes, 1}, {CKA_EXTRACTABLE, &yes, 1}};
  CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
  CK_OBJECT_HANDLE hpub = 0, hpriv = 0, kek = aes(s, CK_FALSE);
  f->C_GenerateKeyPair(s, &gen, pub, 2, priv, 2, &hpub, &hpriv);
  CK_MECHANISM zp = {CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD, NULL, 0};
  CK_BYTE wrapped[512];
  CK_ULONG n = sizeof wrapped;
  CHECK(f->C_WrapKey(s, &zp, kek, hpriv, wrapped, &n) == CKR_OK, "an EC private key wrapped with CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD");
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_KEY_TYPE kt = CKK_EC;
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_SIGN, &yes, 1}};
  CK_OBJECT_HANDLE back = 0;
  CHECK(f->C_UnwrapKey(s, &zp, kek, wrapped, n, t, 3, &back) == CKR_OK, "... unwraps (the zero padding after the PKCS#8 is dropped)");
  CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
  CK_BYTE msg[] = "m", sig[64];
  CK_ULONG sl = sizeof sig;
  CHECK(f->C_SignInit(s, &m, back) == CKR_OK && f->C_Sign(s, msg, 1, sig, &sl) == CKR_OK && f->C_VerifyInit(s, &m, hpub) == CKR_OK &&
            f->C_Verify(s, msg, 1, sig, sl) == CKR_OK,
        "... and the unwrapped key signs for the original public key");
}

static void sp800_108(CK_SESSION_HANDLE s) {
  CK_BYTE secret[32];
  for (int i = 0; i < 32; i++) secret[i] = (CK_BYTE)(i + 1);
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE gen = CKK_GENERIC_SECRET;
  CK_ATTRIBUTE bt[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &gen, sizeof gen}, {CKA_VALUE, secret, sizeof secret}, {CKA_DERIVE, &yes, 1}};
  CK_OBJECT_HANDLE base = 0;
  CHECK(f->C_CreateObject(s, bt, 4, &base) == CKR_OK, "a generic secret to derive from");
  CK_BYTE label[] = "sample label", context[] = "sample context";
  CK_CLOUDHSM_SP800_108_COUNTER_FORMAT counter = {32};
  CK_CLOUDHSM_SP800_108_DKM_LENGTH_FORMAT dkm = {CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS, 32};
  CK_PRF_DATA_PARAM data[] = {{CK_CLOUDHSM_PRF_COUNTER_FORMAT, &counter, sizeof counter}, {CK_CLOUDHSM_PRF_DKM_FORMAT, &dkm, sizeof dkm},
                              {CK_CLOUDHSM_PRF_LABEL, label, sizeof label - 1}, {CK_CLOUDHSM_PRF_CONTEXT, context, sizeof context - 1}};
  CK_CLOUDHSM_SP800_108_KDF_PARAMS params = {CKM_SHA256_HMAC, 4, data};
  CK_MECHANISM m = {CKM_CLOUDHSM_SP800_108_COUNTER_KDF, &params, sizeof params};
  CK_ULONG len = 32;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE dt[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &gen, sizeof gen}, {CKA_VALUE_LEN, &len, sizeof len}, {CKA_SENSITIVE, &no, 1}};
  CK_OBJECT_HANDLE derived = 0;
  CHECK(f->C_DeriveKey(s, &m, base, dt, 4, &derived) == CKR_OK, "CKM_CLOUDHSM_SP800_108_COUNTER_KDF with CloudHSM's parameter structures");
  CK_BYTE got[32];
  CK_ATTRIBUTE v = {CKA_VALUE, got, sizeof got};
  CK_BYTE input[4 + sizeof label - 1 + 1 + sizeof context - 1 + 4], want[32];
  size_t at = 0, wl = 0;
  input[at++] = 0, input[at++] = 0, input[at++] = 0, input[at++] = 1;
  memcpy(input + at, label, sizeof label - 1), at += sizeof label - 1;
  input[at++] = 0;
  memcpy(input + at, context, sizeof context - 1), at += sizeof context - 1;
  input[at++] = 0, input[at++] = 0, input[at++] = 1, input[at++] = 0;  /* L = 256 bits */
  EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, sizeof secret, input, at, want, sizeof want, &wl);
  CHECK(f->C_GetAttributeValue(s, derived, &v, 1) == CKR_OK && memcmp(got, want, 32) == 0,
        "... gives PRF(K, [1]_32 || label || 0x00 || context || [L]_32), as NIST SP 800-108 says");
  CK_MECHANISM_INFO info;
  CHECK(f->C_GetMechanismInfo(1, CKM_CLOUDHSM_SP800_108_COUNTER_KDF, &info) == CKR_OK && (info.flags & CKF_DERIVE), "... and is in the mechanism list");
}

/* The vendor KDF's 2023 parameter types (AWS's aes_cmac_kdf sample): byte arrays around the iteration
 * variable, then the DKM length, the PRF input in that order: prefix || [i]_r || suffix || [L]_d.
 * AES-CMAC over an AES key, a 64-byte key (4 blocks), r = 16, d = 64; checked against OpenSSL's CMAC. */
static void sp800_108_2023(CK_SESSION_HANDLE s) {
  CK_BYTE secret[32];
  for (int i = 0; i < 32; i++) secret[i] = (CK_BYTE)(0x40 + i);
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE aes_type = CKK_AES, gen = CKK_GENERIC_SECRET;
  CK_ATTRIBUTE bt[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &aes_type, sizeof aes_type}, {CKA_VALUE, secret, sizeof secret}, {CKA_DERIVE, &yes, 1}};
  CK_OBJECT_HANDLE base = 0;
  CHECK(f->C_CreateObject(s, bt, 4, &base) == CKR_OK, "an AES key to derive from");
  CK_BYTE prefix[] = {0x1, 0xab, 0xe1}, suffix[] = {0xc, 0x09, 0x7e, 0x7};
  CK_CLOUDHSM_SP800_108_COUNTER_FORMAT counter = {16};
  CK_CLOUDHSM_SP800_108_DKM_LENGTH_FORMAT dkm = {CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS, 64};
  CK_PRF_DATA_PARAM data[] = {{CK_CLOUDHSM_SP800_108_BYTE_ARRAY, prefix, sizeof prefix}, {CK_CLOUDHSM_SP800_108_ITERATION_VARIABLE, &counter, sizeof counter},
                              {CK_CLOUDHSM_SP800_108_BYTE_ARRAY, suffix, sizeof suffix}, {CK_CLOUDHSM_SP800_108_DKM_LENGTH, &dkm, sizeof dkm}};
  CK_CLOUDHSM_SP800_108_KDF_PARAMS params = {CKM_AES_CMAC, 4, data};
  CK_MECHANISM m = {CKM_CLOUDHSM_SP800_108_COUNTER_KDF, &params, sizeof params};
  CK_ULONG len = 64;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE dt[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &gen, sizeof gen}, {CKA_VALUE_LEN, &len, sizeof len}, {CKA_SENSITIVE, &no, 1}};
  CK_OBJECT_HANDLE derived = 0;
  CHECK(f->C_DeriveKey(s, &m, base, dt, 4, &derived) == CKR_OK, "CKM_CLOUDHSM_SP800_108_COUNTER_KDF with the 2023 parameter types (aes_cmac_kdf)");
  CK_BYTE got[64], want[64];
  CK_ATTRIBUTE v = {CKA_VALUE, got, sizeof got};
  for (int i = 1; i <= 4; i++) {
    CK_BYTE input[sizeof prefix + 2 + sizeof suffix + 8];
    size_t at = 0, wl = 0;
    memcpy(input, prefix, sizeof prefix), at += sizeof prefix;
    input[at++] = 0, input[at++] = (CK_BYTE)i;
    memcpy(input + at, suffix, sizeof suffix), at += sizeof suffix;
    memset(input + at, 0, 8), input[at + 6] = 0x02, at += 8;  /* L = 512 bits in 64 bits */
    EVP_Q_mac(NULL, "CMAC", NULL, "AES-256-CBC", NULL, secret, sizeof secret, input, at, want + 16 * (i - 1), 16, &wl);
  }
  CHECK(f->C_GetAttributeValue(s, derived, &v, 1) == CKR_OK && memcmp(got, want, 64) == 0,
        "... gives CMAC(K, prefix || [i]_16 || suffix || [L]_64) for each block, as NIST SP 800-108 says");
  /* The DKM length must come last, and one iteration variable only. */
  CK_PRF_DATA_PARAM bad[] = {{CK_CLOUDHSM_SP800_108_DKM_LENGTH, &dkm, sizeof dkm}, {CK_CLOUDHSM_SP800_108_ITERATION_VARIABLE, &counter, sizeof counter}};
  CK_CLOUDHSM_SP800_108_KDF_PARAMS bad_params = {CKM_AES_CMAC, 2, bad};
  CK_MECHANISM bm = {CKM_CLOUDHSM_SP800_108_COUNTER_KDF, &bad_params, sizeof bad_params};
  CHECK(f->C_DeriveKey(s, &bm, base, dt, 4, &derived) == CKR_MECHANISM_PARAM_INVALID, "... a DKM length before the counter: CKR_MECHANISM_PARAM_INVALID");
}

static void find_count(CK_SESSION_HANDLE s) {
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}};
  CK_ULONG count = 0;
  CK_OBJECT_HANDLE found[16];
  CHECK(f->C_FindObjectsInit(s, t, 1) == CKR_OK && f->C_FindObjects(s, NULL, 16, &count) == CKR_OK && count >= 3,
        "C_FindObjects(h, NULL, n, &count) answers the count, as CloudHSM does");
  CK_ULONG got = 0;
  CHECK(f->C_FindObjects(s, found, 16, &got) == CKR_OK && got == count, "... and takes nothing: the next call returns them all");
  f->C_FindObjectsFinal(s);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  CK_SLOT_ID slot = open_module(argv[1], &f);
  CK_SESSION_HANDLE s = 0;
  f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
  CHECK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR*)"cu1:cu1-password", 16) == CKR_OK, "crypto user login with user:password");
  rsa_x931(s);
  gcm_wrap(s);
  zero_pad_private(s);
  sp800_108(s);
  sp800_108_2023(s);
  find_count(s);
  f->C_Finalize(NULL);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
