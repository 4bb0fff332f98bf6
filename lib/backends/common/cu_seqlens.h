// The rule every backend's attention_varlen applies to its cu_seqlens,
// checked on a host copy of the entries, so the messages are the same
// wherever the op runs.
#ifndef XRT_BACKENDS_COMMON_CU_SEQLENS_H_
#define XRT_BACKENDS_COMMON_CU_SEQLENS_H_

#include <cstdint>

#include "kernel_context.h"

namespace xrt::kernel {

// cu (n entries) starts at 0, never decreases, ends at total, and no length
// exceeds max_len (when given, >= 0). *longest gets the longest length.
inline xrt_status_t check_cu_seqlens(const xrt_kernel_context_t* ctx, const int32_t* cu,
                                     int64_t n, const char* name, int64_t total, int64_t max_len,
                                     int64_t* longest) {
  *longest = 0;
  if (cu[0] != 0) return fail(ctx, XRT_ERROR_INVALID_ARGUMENT, "%s[0] is %d, expected 0", name, cu[0]);
  for (int64_t b = 1; b < n; ++b) {
    const int64_t len = int64_t{cu[b]} - cu[b - 1];
    if (len < 0) {
      return fail(ctx, XRT_ERROR_INVALID_ARGUMENT,
                  "%s is not monotonic: entry %lld is %d, below entry %lld (%d)", name,
                  static_cast<long long>(b), cu[b], static_cast<long long>(b - 1), cu[b - 1]);
    }
    if (max_len >= 0 && len > max_len) {
      return fail(ctx, XRT_ERROR_INVALID_ARGUMENT,
                  "sequence %lld of %s has length %lld, above max_seqlen %lld",
                  static_cast<long long>(b - 1), name, static_cast<long long>(len),
                  static_cast<long long>(max_len));
    }
    if (len > *longest) *longest = len;
  }
  if (cu[n - 1] != total) {
    return fail(ctx, XRT_ERROR_INVALID_ARGUMENT, "%s ends at %d, expected the token count %lld",
                name, cu[n - 1], static_cast<long long>(total));
  }
  return XRT_OK;
}

}  // namespace xrt::kernel

#endif  // XRT_BACKENDS_COMMON_CU_SEQLENS_H_
