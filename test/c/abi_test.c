/* test/c/abi_test.c — the PKCS#11 ABI contract of sealhsm-pkcs11.so, checked from C.
 * Usage: abi_test <module.so>; SEALHSM_PKCS11_CONF should name a configuration with one
 * pkcs11-profile memory slot. Prints "ok - ..." / "not ok - ..." and "N passed, M failed". */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static CK_FUNCTION_LIST* f;


/* application mutexes: real pthread mutexes, counted */
static long app_locks, app_created, app_destroyed;
static CK_RV dummy_create(CK_VOID_PTR* m) {
  pthread_mutex_t* p = malloc(sizeof *p);
  pthread_mutex_init(p, NULL);
  *m = p;
  app_created++;
  return CKR_OK;
}
static CK_RV dummy_destroy(CK_VOID_PTR m) {
  pthread_mutex_destroy(m);
  free(m);
  app_destroyed++;
  return CKR_OK;
}
static CK_RV dummy_lock(CK_VOID_PTR m) {
  pthread_mutex_lock(m);
  __atomic_add_fetch(&app_locks, 1, __ATOMIC_SEQ_CST);
  return CKR_OK;
}
static CK_RV dummy_unlock(CK_VOID_PTR m) {
  pthread_mutex_unlock(m);
  return CKR_OK;
}
static CK_RV dummy_notify(CK_SESSION_HANDLE s, CK_NOTIFICATION e, CK_VOID_PTR a) { (void)s; (void)e; (void)a; return CKR_OK; }

static CK_SESSION_HANDLE open_rw(CK_SLOT_ID slot) {
  CK_SESSION_HANDLE s = 0;
  f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
  return s;
}

static CK_OBJECT_HANDLE hmac_key;
static void* thread_main(void* arg) {
  CK_SLOT_ID slot = *(CK_SLOT_ID*)arg;
  CK_SESSION_HANDLE s = open_rw(slot);
  CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
  long bad = 0;
  for (int i = 0; i < 200; i++) {
    CK_BYTE data[16] = {(CK_BYTE)i}, mac[32];
    CK_ULONG len = sizeof mac;
    if (f->C_SignInit(s, &m, hmac_key) != CKR_OK || f->C_Sign(s, data, sizeof data, mac, &len) != CKR_OK || len != 32) bad++;
  }
  f->C_CloseSession(s);
  return (void*)bad;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    printf("cannot load %s: %s\n0 passed, 1 failed\n", argv[1], dlerror());
    return 1;
  }
  CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR) = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(lib, "C_GetFunctionList");
  CHECK(get_list != NULL && get_list(NULL) == CKR_ARGUMENTS_BAD, "C_GetFunctionList(NULL) is CKR_ARGUMENTS_BAD");
  CHECK(get_list(&f) == CKR_OK && f->version.major == 2 && f->version.minor == 40, "C_GetFunctionList gives the v2.40 list");
  CK_INTERFACE* iface = NULL;
  CK_RV (*get_iface)(CK_UTF8CHAR*, CK_VERSION*, CK_INTERFACE**, CK_FLAGS) = (CK_RV(*)(CK_UTF8CHAR*, CK_VERSION*, CK_INTERFACE**, CK_FLAGS))dlsym(lib, "C_GetInterface");
  CHECK(get_iface != NULL && get_iface((CK_UTF8CHAR*)"PKCS 11", NULL, &iface, 0) == CKR_OK, "C_GetInterface(\"PKCS 11\")");
  CK_FUNCTION_LIST_3_0* f3 = (CK_FUNCTION_LIST_3_0*)iface->pFunctionList;
  CHECK(f3->version.major == 3 && f3->version.minor == 0 && f3->C_LoginUser != NULL && f3->C_Sign == f->C_Sign, "the default interface is the 3.0 list");
  CK_VERSION v240 = {2, 40};
  CHECK(get_iface(NULL, &v240, &iface, 0) == CKR_OK && iface->pFunctionList == f, "version 2.40 gives the v2.40 list");
  CK_ULONG ifaces = 0;
  CHECK(f3->C_GetInterfaceList(NULL, &ifaces) == CKR_OK && ifaces == 2, "two interfaces are listed");

  CK_INFO info;
  CHECK(f->C_GetInfo(&info) == CKR_CRYPTOKI_NOT_INITIALIZED, "before C_Initialize: CKR_CRYPTOKI_NOT_INITIALIZED");
  CK_C_INITIALIZE_ARGS args;
  memset(&args, 0, sizeof args);
  args.CreateMutex = dummy_create;
  CHECK(f->C_Initialize(&args) == CKR_ARGUMENTS_BAD, "some but not all mutex callbacks: CKR_ARGUMENTS_BAD");
  args.DestroyMutex = dummy_destroy;
  args.LockMutex = dummy_lock;
  args.UnlockMutex = dummy_unlock;
  CHECK(f->C_Initialize(&args) == CKR_OK && app_created == 1, "application mutexes without CKF_OS_LOCKING_OK: the library makes one");
  CK_ULONG probe = 0;
  f->C_GetSlotList(CK_TRUE, NULL, &probe);
  CHECK(app_locks > 0, "... and holds it around calls");
  CHECK(f->C_Finalize(NULL) == CKR_OK && app_destroyed == 1, "... and destroys it at C_Finalize");
  args.flags = CKF_OS_LOCKING_OK;
  long locks_before = app_locks;
  CHECK(f->C_Initialize(&args) == CKR_OK, "application mutexes with CKF_OS_LOCKING_OK: OS locking, CKR_OK");
  f->C_GetSlotList(CK_TRUE, NULL, &probe);
  CHECK(app_locks == locks_before, "... and the application's mutexes are not used then");
  CHECK(f->C_Initialize(NULL) == CKR_CRYPTOKI_ALREADY_INITIALIZED, "a second C_Initialize: CKR_CRYPTOKI_ALREADY_INITIALIZED");
  CHECK(f->C_GetInfo(NULL) == CKR_ARGUMENTS_BAD, "C_GetInfo(NULL): CKR_ARGUMENTS_BAD");

  CK_ULONG count = 0;
  CHECK(f->C_GetSlotList(CK_TRUE, NULL, &count) == CKR_OK && count == 2, "slot list size query");
  CK_SLOT_ID slots[2];
  CK_ULONG small = 1;
  CHECK(f->C_GetSlotList(CK_TRUE, slots, &small) == CKR_BUFFER_TOO_SMALL && small == 2, "short slot list: CKR_BUFFER_TOO_SMALL with the count");
  f->C_GetSlotList(CK_TRUE, slots, &count);
  CK_SLOT_ID slot = slots[0];

  CHECK(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL) == CKR_ARGUMENTS_BAD, "C_OpenSession with a NULL handle pointer: CKR_ARGUMENTS_BAD");
  CK_SESSION_HANDLE parallel;
  CHECK(f->C_OpenSession(slot, CKF_RW_SESSION, NULL, NULL, &parallel) == CKR_SESSION_PARALLEL_NOT_SUPPORTED, "no CKF_SERIAL_SESSION: CKR_SESSION_PARALLEL_NOT_SUPPORTED");
  CHECK(f->C_InitToken(slot, (CK_UTF8CHAR*)"so-pin-0000", 11, (CK_UTF8CHAR*)"abi                             ") == CKR_OK, "C_InitToken sets the SO PIN");
  CK_SESSION_HANDLE so = open_rw(slot);
  CHECK(f->C_Login(so, CKU_SO, (CK_UTF8CHAR*)"so-pin-0000", 11) == CKR_OK, "SO login");
  CHECK(f->C_InitPIN(so, (CK_UTF8CHAR*)"user-pin-0", 10) == CKR_OK, "C_InitPIN");
  f->C_Logout(so);
  CK_SESSION_HANDLE s = open_rw(slot);
  CHECK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR*)"wrong-pin", 9) == CKR_PIN_INCORRECT, "wrong user PIN: CKR_PIN_INCORRECT");
  CHECK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR*)"user-pin-0", 10) == CKR_OK, "user login");
  CK_SESSION_INFO si;
  CHECK(f->C_GetSessionInfo(so, &si) == CKR_OK && si.state == CKS_RW_USER_FUNCTIONS, "the login covers every session of the application");

  /* the second slot: a cloudhsm-profile token with crypto user cu1 (made by the test beforehand) */
  CK_SESSION_HANDLE c = open_rw(slots[1]);
  CHECK(f3->C_LoginUser(c, CKU_USER, (CK_UTF8CHAR*)"wrong-password", 14, (CK_UTF8CHAR*)"cu1", 3) == CKR_PIN_INCORRECT, "cloudhsm: C_LoginUser with a wrong password");
  CHECK(f3->C_LoginUser(c, CKU_USER, (CK_UTF8CHAR*)"cu1-password", 12, (CK_UTF8CHAR*)"cu1", 3) == CKR_OK, "cloudhsm: C_LoginUser names the crypto user");
  CHECK(f->C_Login(c, CKU_USER, (CK_UTF8CHAR*)"cu1:cu1-password", 16) == CKR_USER_ALREADY_LOGGED_IN, "cloudhsm: a second login is CKR_USER_ALREADY_LOGGED_IN");
  CHECK(f->C_OpenSession(slots[1], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, dummy_notify, &c) == CKR_ARGUMENTS_BAD, "cloudhsm: a notify callback is CKR_ARGUMENTS_BAD");

  CK_BBOOL yes = CK_TRUE;
  CK_ULONG len32 = 32;
  CK_ATTRIBUTE aes_t[] = {{CKA_VALUE_LEN, &len32, sizeof len32}, {CKA_ENCRYPT, &yes, 1}, {CKA_DECRYPT, &yes, 1}};
  CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
  CK_OBJECT_HANDLE aes = 0;
  CHECK(f->C_GenerateKey(s, &gen, aes_t, 3, NULL) == CKR_ARGUMENTS_BAD, "C_GenerateKey with a NULL handle pointer: CKR_ARGUMENTS_BAD");
  CHECK(f->C_GenerateKey(s, &gen, aes_t, 3, &aes) == CKR_OK, "AES key generation");

  CK_BYTE iv[16] = {0}, plain[40] = "size-query protocol, forty bytes of it!", out[64], back[64];
  CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv, sizeof iv};
  CK_ULONG out_len = 0;
  f->C_EncryptInit(s, &cbc, aes);
  CHECK(f->C_Encrypt(s, plain, sizeof plain, NULL, &out_len) == CKR_OK && out_len == 48, "C_Encrypt(NULL) reports the length");
  CK_ULONG tiny = 8;
  CHECK(f->C_Encrypt(s, plain, sizeof plain, out, &tiny) == CKR_BUFFER_TOO_SMALL && tiny == 48, "a short buffer: CKR_BUFFER_TOO_SMALL with the length");
  out_len = sizeof out;
  CHECK(f->C_Encrypt(s, plain, sizeof plain, out, &out_len) == CKR_OK && out_len == 48, "then the ciphertext, from the same operation");
  CHECK(f->C_Encrypt(s, plain, sizeof plain, out, &out_len) == CKR_OPERATION_NOT_INITIALIZED, "the operation ended with it");
  f->C_EncryptInit(s, &cbc, aes);
  CHECK(f3->C_SessionCancel(s, CKF_ENCRYPT) == CKR_OK && f->C_EncryptFinal(s, out, &out_len) == CKR_OPERATION_NOT_INITIALIZED, "C_SessionCancel ends the encryption");
  CHECK(f3->C_MessageEncryptInit(s, &cbc, aes) == CKR_FUNCTION_NOT_SUPPORTED, "message-based encryption is not offered: CKR_FUNCTION_NOT_SUPPORTED");
  CK_ULONG back_len = sizeof back;
  f->C_DecryptInit(s, &cbc, aes);
  CHECK(f->C_Decrypt(s, out, 48, back, &back_len) == CKR_OK && back_len == sizeof plain && memcmp(back, plain, sizeof plain) == 0, "decrypts back");

  CK_ATTRIBUTE read[] = {{CKA_LABEL, NULL, 0}, {CKA_VALUE, NULL, 0}, {CKA_CLASS, NULL, 0}};
  CK_RV rv = f->C_GetAttributeValue(s, aes, read, 3);
  CHECK(rv == CKR_ATTRIBUTE_SENSITIVE && read[1].ulValueLen == CK_UNAVAILABLE_INFORMATION && read[2].ulValueLen == sizeof(CK_ULONG),
        "attribute reads: the sensitive entry is unavailable, the others still answered");
  CK_BYTE one;
  CK_ATTRIBUTE cls = {CKA_CLASS, &one, 1};
  CHECK(f->C_GetAttributeValue(s, aes, &cls, 1) == CKR_BUFFER_TOO_SMALL && cls.ulValueLen == CK_UNAVAILABLE_INFORMATION, "a short attribute buffer: CKR_BUFFER_TOO_SMALL");

  /* HKDF (RFC 5869 test case 1) through CK_HKDF_PARAMS */
  CK_BYTE ikm[22], salt[13], hinfo[10];
  memset(ikm, 0x0b, sizeof ikm);
  for (int i = 0; i < 13; i++) salt[i] = (CK_BYTE)i;
  for (int i = 0; i < 10; i++) hinfo[i] = (CK_BYTE)(0xf0 + i);
  CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
  CK_KEY_TYPE generic = CKK_GENERIC_SECRET;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE ikm_t[] = {{CKA_CLASS, &secret, sizeof secret}, {CKA_KEY_TYPE, &generic, sizeof generic}, {CKA_VALUE, ikm, sizeof ikm}, {CKA_DERIVE, &yes, 1}};
  CK_OBJECT_HANDLE ikm_key = 0, okm_key = 0;
  f->C_CreateObject(s, ikm_t, 4, &ikm_key);
  CK_HKDF_PARAMS hp = {CK_TRUE, CK_TRUE, CKM_SHA256, CKF_HKDF_SALT_DATA, salt, sizeof salt, 0, hinfo, sizeof hinfo};
  CK_MECHANISM hkdf = {CKM_HKDF_DERIVE, &hp, sizeof hp};
  CK_ULONG l42 = 42;
  CK_ATTRIBUTE okm_t[] = {{CKA_CLASS, &secret, sizeof secret}, {CKA_KEY_TYPE, &generic, sizeof generic}, {CKA_VALUE_LEN, &l42, sizeof l42},
                          {CKA_SENSITIVE, &no, 1}, {CKA_EXTRACTABLE, &yes, 1}};
  CK_BYTE okm[42];
  CK_ATTRIBUTE val = {CKA_VALUE, okm, sizeof okm};
  static const CK_BYTE expected[42] = {0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36, 0x2f, 0x2a,
                                       0x2d, 0x2d, 0x0a, 0x90, 0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4, 0xc5, 0xbf,
                                       0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65};
  CHECK(f->C_DeriveKey(s, &hkdf, ikm_key, okm_t, 5, &okm_key) == CKR_OK && f->C_GetAttributeValue(s, okm_key, &val, 1) == CKR_OK &&
            memcmp(okm, expected, sizeof okm) == 0, "HKDF through CK_HKDF_PARAMS gives RFC 5869's test case 1");

  /* threads: 8 sessions signing at once */
  CK_BYTE hkey[32] = {1};
  CK_ATTRIBUTE hk_t[] = {{CKA_CLASS, &secret, sizeof secret}, {CKA_KEY_TYPE, &generic, sizeof generic}, {CKA_VALUE, hkey, sizeof hkey}, {CKA_SIGN, &yes, 1}};
  f->C_CreateObject(s, hk_t, 4, &hmac_key);
  pthread_t th[8];
  long bad = 0;
  for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, thread_main, &slot);
  for (int i = 0; i < 8; i++) {
    void* r;
    pthread_join(th[i], &r);
    bad += (long)r;
  }
  CHECK(bad == 0, "8 threads x 200 HMACs on their own sessions all succeed");

  /* fork: the child must initialize again */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int ok = f->C_GetInfo(&info) == CKR_CRYPTOKI_NOT_INITIALIZED && f->C_Initialize(NULL) == CKR_OK &&
             f->C_GetSlotList(CK_TRUE, NULL, &count) == CKR_OK && count == 2 && f->C_Finalize(NULL) == CKR_OK;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a forked child gets CKR_CRYPTOKI_NOT_INITIALIZED until it calls C_Initialize");
  CHECK(f->C_GetSessionInfo(s, &si) == CKR_OK, "the parent carries on after the fork");

  CHECK(f->C_Finalize((CK_VOID_PTR)1) == CKR_ARGUMENTS_BAD, "C_Finalize with a reserved pointer: CKR_ARGUMENTS_BAD");
  CHECK(f->C_Finalize(NULL) == CKR_OK, "C_Finalize");
  CHECK(f->C_GetSessionInfo(s, &si) == CKR_CRYPTOKI_NOT_INITIALIZED, "after C_Finalize: CKR_CRYPTOKI_NOT_INITIALIZED");
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
