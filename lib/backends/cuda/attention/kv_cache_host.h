// The host side of the CUDA KV-cache ops: cache_seqlens and block_table are
// copied to the host and checked there (backends/common/kv_cache_check.h)
// before any kernel runs, so that bad lengths or block numbers get the CPU
// kernels' InvalidArgument and the kernels only ever address rows the check
// has seen. The price is one small device-to-host copy and a wait for the
// stream per call.
#ifndef XRT_CUDA_ATTENTION_KV_CACHE_HOST_H_
#define XRT_CUDA_ATTENTION_KV_CACHE_HOST_H_

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/common/kv_cache_check.h"
#include "kernels/kernel_util.h"

namespace xrt::cuda::attn {

// A cache (inputs[cache]) with cache_seqlens at inputs[lens] and the
// optional block_table after it, as the kernels address it.
struct KvCache {
  const xrt_kernel_tensor_t* k;
  const int32_t* seqlens;  // device
  const int32_t* table;    // device; nullptr: contiguous
  int64_t max_blocks;
  int64_t max_len = 0;  // the longest sequence, after read_and_check

  // Rows per block when paged, the capacity when contiguous: either way
  // position p of sequence b is row (b or table[b][p / rows]) * rows + p % rows.
  int64_t rows() const { return k->shape[1]; }
};

inline KvCache kv_cache_of(const xrt_kernel_context_t* ctx, size_t cache, size_t lens) {
  const xrt_kernel_tensor_t& t = ctx->inputs[lens + 1];
  return {&ctx->inputs[cache], static_cast<const int32_t*>(ctx->inputs[lens].data),
          static_cast<const int32_t*>(t.data), t.data ? t.shape[1] : 0};
}

// Reads the lengths and block table of `batch` sequences (each about to
// grow by `extra` rows) and checks them; sets c.max_len.
inline xrt_status_t read_and_check(const xrt_kernel_context_t* ctx, KvCache& c, int64_t batch,
                                   int64_t extra, cudaStream_t stream) {
  if (batch == 0) return XRT_OK;
  std::vector<int32_t> lens(static_cast<size_t>(batch));
  std::vector<int32_t> table(c.table ? static_cast<size_t>(batch * c.max_blocks) : 0);
  cudaError_t err = cudaMemcpyAsync(lens.data(), c.seqlens, lens.size() * sizeof(int32_t),
                                    cudaMemcpyDefault, stream);
  if (err == cudaSuccess && !table.empty()) {
    err = cudaMemcpyAsync(table.data(), c.table, table.size() * sizeof(int32_t),
                          cudaMemcpyDefault, stream);
  }
  if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return fail(ctx, XRT_ERROR_BACKEND, "cuda %s: reading cache_seqlens and block_table: %s: %s",
                op_name(ctx), cudaGetErrorName(err), cudaGetErrorString(err));
  }
  const kernel::KvCacheShape shape{c.k->shape[0], c.k->shape[1],
                                   c.table ? table.data() : nullptr, c.max_blocks};
  const xrt_status_t status = kernel::check_kv_cache(ctx, shape, lens.data(), batch, extra);
  if (status != XRT_OK) return status;
  c.max_len = *std::max_element(lens.begin(), lens.end());
  return XRT_OK;
}

// The cache row holding position pos of sequence b (checked positions only).
__device__ __forceinline__ int64_t cache_row(const int32_t* table, int64_t max_blocks,
                                             int rows, int b, int pos) {
  if (!table) return static_cast<int64_t>(b) * rows + pos;
  return static_cast<int64_t>(table[static_cast<int64_t>(b) * max_blocks + pos / rows]) * rows +
         pos % rows;
}

}  // namespace xrt::cuda::attn

#endif  // XRT_CUDA_ATTENTION_KV_CACHE_HOST_H_
