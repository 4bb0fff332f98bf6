// Shared by the fuzz targets: owning handles (LeakSanitizer checks that every
// input releases what it created), the CPU device, and checks that must hold
// for any input.
#ifndef XRT_FUZZ_UTIL_H_
#define XRT_FUZZ_UTIL_H_

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "xpuruntime/xpuruntime.h"

// A broken invariant is a crash, so libFuzzer keeps the input.
#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s (last error: %s)\n", __FILE__, \
                   __LINE__, #cond, xrt_last_error());                                \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

// Sanitizer defaults each target carries, so a replay needs no environment:
// a huge request the library must refuse gets NULL (and OUT_OF_MEMORY), as
// from the system allocator, not an abort; UBSan reports come with stacks.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1"; }
// glibc's DNS resolver (res_send), reached from inside ONNX Runtime (this
// runtime does no lookups), keeps a small buffer that LeakSanitizer now and
// then reports as leaked.
extern "C" const char* __lsan_default_suppressions() { return "leak:__res_context_send\n"; }

struct TensorRelease {
  void operator()(xrt_tensor_t* t) const { xrt_tensor_release(t); }
};
using TensorPtr = std::unique_ptr<xrt_tensor_t, TensorRelease>;

struct SessionRelease {
  void operator()(xrt_session_t* s) const { xrt_session_release(s); }
};
using SessionPtr = std::unique_ptr<xrt_session_t, SessionRelease>;

inline xrt_device_t* cpu_device() {
  static xrt_device_t* cpu = [] {
    xrt_device_t* device = nullptr;
    FUZZ_CHECK(xrt_device_by_name("cpu", &device) == XRT_OK);
    return device;
  }();
  return cpu;
}

// A status is either OK or one of the documented error codes.
inline bool known_status(xrt_status_t status) {
  return status >= XRT_OK && status <= XRT_ERROR_INTERNAL;
}

// Dimension extents that reach the interesting cases (empty, unit, small,
// negative, overflowing) far more often than uniform int64 would.
inline int64_t fuzz_extent(FuzzedDataProvider& in, int64_t small_max) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return -in.ConsumeIntegralInRange<int64_t>(1, 3);
    case 3: return in.ConsumeIntegral<int64_t>();
    case 4: return INT64_MAX / in.ConsumeIntegralInRange<int64_t>(1, 4);
    default: return in.ConsumeIntegralInRange<int64_t>(0, small_max);
  }
}

// A stride from fuzz_extent, as often negative as not (INT64_MIN stays).
inline int64_t fuzz_stride(FuzzedDataProvider& in, int64_t small_max) {
  const int64_t extent = fuzz_extent(in, small_max);
  return in.ConsumeBool() && extent != INT64_MIN ? -extent : extent;
}

#endif  // XRT_FUZZ_UTIL_H_
