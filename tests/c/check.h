/* Minimal checks for the C tests: count, report, and show the runtime's
 * last error next to every failure. */
#ifndef XRT_TESTS_CHECK_H_
#define XRT_TESTS_CHECK_H_

#include <stdio.h>
#include <string.h>

#include "xpuruntime/xpuruntime.h"

static int check_passed = 0;
static int check_failed = 0;

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (cond) {                                                                         \
      ++check_passed;                                                                   \
    } else {                                                                            \
      ++check_failed;                                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, \
              #cond, xrt_last_error());                                                 \
    }                                                                                   \
  } while (0)

#define CHECK_OK(call) CHECK((call) == XRT_OK)

/* The call fails with `status` and a message containing `text`. */
#define CHECK_ERROR(call, status, text)                                               \
  do {                                                                                \
    xrt_status_t got_ = (call);                                                       \
    CHECK(got_ == (status));                                                          \
    if (!strstr(xrt_last_error(), (text))) {                                          \
      ++check_failed;                                                                 \
      fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,      \
              xrt_last_error(), (text));                                              \
    }                                                                                 \
  } while (0)

static int check_report(const char* suite) {
  printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
