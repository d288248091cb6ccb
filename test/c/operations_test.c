/* test/c/operations_test.c — how operations begin and end at the C ABI (PKCS#11 v3.0 §5.2 and the
 * function descriptions in §5.8–5.13): a failed C_*Update or C_*Final ends its operation (the next
 * C_*Init succeeds), a single-part call after a multi-part sequence started — or a C_*Final after a
 * single-part size query — is CKR_OPERATION_ACTIVE and ends nothing.
 * Usage: operations_test <module.so>; SEALHSM_PKCS11_CONF names one pkcs11-profile memory slot. */
#include <string.h>

#include <openssl/sha.h>

#include "check.h"

static CK_FUNCTION_LIST* f;
static CK_SESSION_HANDLE s;
static CK_OBJECT_HANDLE aes, hmac;

static void setup(CK_SLOT_ID slot) {
  CK_UTF8CHAR so[] = "so-pin-0000", user[] = "user-pin-0";
  f->C_InitToken(slot, so, sizeof so - 1, (CK_UTF8CHAR*)"operations                      ");
  f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
  f->C_Login(s, CKU_SO, so, sizeof so - 1);
  f->C_InitPIN(s, user, sizeof user - 1);
  f->C_Logout(s);
  f->C_Login(s, CKU_USER, user, sizeof user - 1);
  CK_ULONG len = 32;
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_ENCRYPT, &yes, 1}, {CKA_DECRYPT, &yes, 1}, {CKA_SIGN, &yes, 1}, {CKA_VERIFY, &yes, 1}};
  CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0}, ggen = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
  f->C_GenerateKey(s, &gen, t, 3, &aes);
  CK_ATTRIBUTE h[] = {{CKA_VALUE_LEN, &len, sizeof len}, {CKA_SIGN, &yes, 1}, {CKA_VERIFY, &yes, 1}};
  f->C_GenerateKey(s, &ggen, h, 3, &hmac);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  setup(open_module(argv[1], &f));
  CK_BYTE iv[16] = {0}, data[32] = {1, 2, 3}, out[64], digest[32], want[32];
  CK_ULONG n;
  CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv, sizeof iv}, sha = {CKM_SHA256, NULL, 0}, mac = {CKM_SHA256_HMAC, NULL, 0};
  SHA256(data, sizeof data, want);

  /* A failed update or final ends the operation. */
  CHECK(f->C_EncryptInit(s, &cbc, aes) == CKR_OK, "C_EncryptInit");
  CHECK(f->C_EncryptUpdate(s, data, sizeof data, out, NULL) == CKR_ARGUMENTS_BAD, "C_EncryptUpdate with a NULL length pointer: CKR_ARGUMENTS_BAD");
  CHECK(f->C_EncryptInit(s, &cbc, aes) == CKR_OK, "... which ended the operation: C_EncryptInit again succeeds");
  CHECK(f->C_EncryptUpdate(s, NULL, 16, out, &n) == CKR_ARGUMENTS_BAD, "C_EncryptUpdate with NULL data: CKR_ARGUMENTS_BAD");
  CHECK(f->C_EncryptFinal(s, out, &n) == CKR_OPERATION_NOT_INITIALIZED, "... and C_EncryptFinal then finds no operation");
  CHECK(f->C_DecryptInit(s, &cbc, aes) == CKR_OK, "C_DecryptInit");
  CHECK(f->C_DecryptUpdate(s, data, sizeof data, out, NULL) == CKR_ARGUMENTS_BAD, "C_DecryptUpdate with a NULL length pointer: CKR_ARGUMENTS_BAD");
  CHECK(f->C_DecryptInit(s, &cbc, aes) == CKR_OK, "... which ended it: C_DecryptInit again succeeds");
  n = sizeof out;
  CHECK(f->C_DecryptUpdate(s, data, 16, out, &n) == CKR_OK, "C_DecryptUpdate of one block");
  CHECK(f->C_DecryptFinal(s, out, NULL) == CKR_ARGUMENTS_BAD, "C_DecryptFinal with a NULL length pointer: CKR_ARGUMENTS_BAD");
  CHECK(f->C_DecryptInit(s, &cbc, aes) == CKR_OK, "... which ended it too");
  f->C_DecryptFinal(s, out, &n);  /* whatever it says, the operation ends */
  CHECK(f->C_SignInit(s, &mac, hmac) == CKR_OK, "C_SignInit");
  CHECK(f->C_SignUpdate(s, NULL, 8) == CKR_ARGUMENTS_BAD, "C_SignUpdate with NULL data: CKR_ARGUMENTS_BAD");
  CHECK(f->C_SignInit(s, &mac, hmac) == CKR_OK, "... which ended it: C_SignInit again succeeds");
  CHECK(f->C_SignFinal(s, out, NULL) == CKR_ARGUMENTS_BAD, "C_SignFinal with a NULL length pointer: CKR_ARGUMENTS_BAD");
  CHECK(f->C_SignInit(s, &mac, hmac) == CKR_OK, "... which ended it too");
  n = sizeof out;
  CHECK(f->C_Sign(s, data, sizeof data, out, &n) == CKR_OK && n == 32, "a C_Sign after it works");
  CHECK(f->C_DigestInit(s, &sha) == CKR_OK, "C_DigestInit");
  CHECK(f->C_DigestUpdate(s, NULL, 8) == CKR_ARGUMENTS_BAD, "C_DigestUpdate with NULL data: CKR_ARGUMENTS_BAD");
  CHECK(f->C_DigestInit(s, &sha) == CKR_OK, "... which ended it: C_DigestInit again succeeds");
  f->C_DigestFinal(s, digest, &n);

  /* Mixing single-part and multi-part calls is CKR_OPERATION_ACTIVE and ends nothing. */
  CHECK(f->C_DigestInit(s, &sha) == CKR_OK, "C_DigestInit");
  CHECK(f->C_DigestUpdate(s, data, 16) == CKR_OK, "C_DigestUpdate");
  n = sizeof digest;
  CHECK(f->C_Digest(s, data, sizeof data, digest, &n) == CKR_OPERATION_ACTIVE, "C_Digest during a C_DigestUpdate sequence: CKR_OPERATION_ACTIVE");
  CHECK(f->C_DigestUpdate(s, data + 16, 16) == CKR_OK, "... and the sequence goes on");
  n = sizeof digest;
  CHECK(f->C_DigestFinal(s, digest, &n) == CKR_OK && n == 32 && memcmp(digest, want, 32) == 0, "... to the right C_DigestFinal");
  CHECK(f->C_DigestInit(s, &sha) == CKR_OK, "C_DigestInit");
  n = 0;
  CHECK(f->C_Digest(s, data, sizeof data, NULL, &n) == CKR_OK && n == 32, "C_Digest size query");
  CHECK(f->C_DigestFinal(s, digest, &n) == CKR_OPERATION_ACTIVE, "C_DigestFinal after a C_Digest size query: CKR_OPERATION_ACTIVE");
  CHECK(f->C_DigestUpdate(s, data, 16) == CKR_OPERATION_ACTIVE, "C_DigestUpdate after it: CKR_OPERATION_ACTIVE");
  n = sizeof digest;
  CHECK(f->C_Digest(s, data, sizeof data, digest, &n) == CKR_OK && memcmp(digest, want, 32) == 0, "... and the C_Digest still finishes with the right digest");
  CHECK(f->C_EncryptInit(s, &cbc, aes) == CKR_OK, "C_EncryptInit");
  n = 0;
  CHECK(f->C_Encrypt(s, data, sizeof data, NULL, &n) == CKR_OK && n == 48, "C_Encrypt size query");
  CHECK(f->C_EncryptFinal(s, out, &n) == CKR_OPERATION_ACTIVE, "C_EncryptFinal after a C_Encrypt size query: CKR_OPERATION_ACTIVE");
  n = sizeof out;
  CHECK(f->C_Encrypt(s, data, sizeof data, out, &n) == CKR_OK && n == 48, "... and the C_Encrypt still finishes");
  CHECK(f->C_SignInit(s, &mac, hmac) == CKR_OK, "C_SignInit");
  n = 0;
  CHECK(f->C_Sign(s, data, sizeof data, NULL, &n) == CKR_OK && n == 32, "C_Sign size query");
  CHECK(f->C_SignFinal(s, out, &n) == CKR_OPERATION_ACTIVE, "C_SignFinal after a C_Sign size query: CKR_OPERATION_ACTIVE");
  n = sizeof out;
  CHECK(f->C_Sign(s, data, sizeof data, out, &n) == CKR_OK && n == 32, "... and the C_Sign still finishes");

  f->C_Finalize(NULL);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
