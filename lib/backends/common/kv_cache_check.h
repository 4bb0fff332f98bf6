// The data-dependent checks of the KV-cache ops (attention_decode,
// kv_cache_append), shared by every backend: the schema checks shapes, but
// cache_seqlens and block_table are values, read by the kernel itself (the
// CUDA kernels copy them to the host first), so that a bad length or block
// number is reported with the same message everywhere and no kernel ever
// addresses a row outside the cache.
#ifndef XRT_BACKENDS_COMMON_KV_CACHE_CHECK_H_
#define XRT_BACKENDS_COMMON_KV_CACHE_CHECK_H_

#include <cstdint>

#include "kernel_context.h"

namespace xrt::kernel {

// A cache as the ops lay it out: contiguous (batch, capacity, Hkv, D), or
// paged (num_blocks, block_size, Hkv, D) with table (batch, max_blocks).
struct KvCacheShape {
  int64_t dim0;  // batch, or num_blocks when paged
  int64_t dim1;  // capacity, or block_size when paged
  const int32_t* table;  // host memory; nullptr: contiguous
  int64_t max_blocks;

  int64_t capacity() const { return table ? max_blocks * dim1 : dim1; }
};

// Positions [0, seqlens[b] + extra) of every sequence fit the cache and the
// blocks holding them exist (seqlens in host memory).
inline xrt_status_t check_kv_cache(const xrt_kernel_context_t* ctx, const KvCacheShape& c,
                                   const int32_t* seqlens, int64_t batch, int64_t extra) {
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = seqlens[b];
    if (len < 0 || len + extra > c.capacity()) {
      return fail(ctx, XRT_ERROR_INVALID_ARGUMENT,
                  "cache_seqlens[%lld] is %lld%s, expected 0 to %lld (the cache's capacity%s)",
                  static_cast<long long>(b), static_cast<long long>(len),
                  extra ? " before the new rows" : "",
                  static_cast<long long>(c.capacity() - extra),
                  extra ? " less the new rows" : "");
    }
    if (!c.table) continue;
    const int64_t blocks = (len + extra + c.dim1 - 1) / c.dim1;
    for (int64_t i = 0; i < blocks; ++i) {
      const int32_t block = c.table[b * c.max_blocks + i];
      if (block < 0 || block >= c.dim0) {
        return fail(ctx, XRT_ERROR_INVALID_ARGUMENT,
                    "block_table[%lld][%lld] is %d, outside the cache's %lld blocks",
                    static_cast<long long>(b), static_cast<long long>(i), block,
                    static_cast<long long>(c.dim0));
      }
    }
  }
  return XRT_OK;
}

}  // namespace xrt::kernel

#endif  // XRT_BACKENDS_COMMON_KV_CACHE_CHECK_H_
