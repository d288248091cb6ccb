/* test/c/check.h — the tiny TAP-like reporting the C test programs share: CHECK prints "ok - name"
 * or "not ok - name (line N)" and counts; main prints "N passed, M failed". */
#pragma once

#include <stdio.h>

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
