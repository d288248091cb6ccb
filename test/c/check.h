/* test/c/check.h — what the C test programs share: CHECK prints "ok - name" or "not ok - name
 * (line N)" and counts (main prints "N passed, M failed"), and open_module loads the module given on
 * the command line, initializes it and returns its first slot. */
#pragma once

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "pkcs11.h"

static int passed, failed;

#define CHECK(cond, name)                                              \
  do {                                                                 \
    if (cond) {                                                        \
      passed++;                                                        \
      printf("ok - %s\n", name);                                       \
    } else {                                                           \
      failed++;                                                        \
      printf("not ok - %s (line %d)\n", name, __LINE__);               \
    }                                                                  \
  } while (0)

/* C_GetFunctionList from `path`, C_Initialize(NULL), and the first slot; exits with one failure
 * reported when any of it does not work. */
static inline CK_SLOT_ID open_module(const char* path, CK_FUNCTION_LIST** list) {
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR) = lib ? (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(lib, "C_GetFunctionList") : NULL;
  CK_SLOT_ID slot = 0;
  CK_ULONG count = 1;
  if (get_list == NULL || get_list(list) != CKR_OK || (*list)->C_Initialize(NULL) != CKR_OK ||
      (*list)->C_GetSlotList(CK_TRUE, &slot, &count) != CKR_OK || count == 0) {
    printf("cannot load %s\n0 passed, 1 failed\n", path);
    exit(1);
  }
  return slot;
}
