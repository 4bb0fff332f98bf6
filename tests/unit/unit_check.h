// The C++ unit tests' tally: check() counts a result and names a failure;
// report() prints the counts and gives the test's exit status.
#ifndef XRT_TESTS_UNIT_CHECK_H_
#define XRT_TESTS_UNIT_CHECK_H_

#include <cstdio>
#include <string>

namespace unit {

inline int failed = 0, passed = 0;

inline void check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    if (detail.empty()) {
      std::fprintf(stderr, "FAILED: %s\n", what);
    } else {
      std::fprintf(stderr, "FAILED: %s %s\n", what, detail.c_str());
    }
  }
}

inline int report(const char* test) {
  std::printf("%s: %d passed, %d failed\n", test, passed, failed);
  return failed ? 1 : 0;
}

}  // namespace unit

#endif  // XRT_TESTS_UNIT_CHECK_H_
