// The host side of the CUDA KV-cache ops: cache_seqlens and block_table are
// copied to the host and checked there (backends/common/kv_cache_check.h),
// so that bad lengths or block numbers get the CPU kernels' InvalidArgument.
// The price is one small device-to-host copy per call, and the host waits
// for the work queued before the call.
#ifndef XRT_CUDA_ATTENTION_KV_CACHE_HOST_H_
#define XRT_CUDA_ATTENTION_KV_CACHE_HOST_H_

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "backends/common/kv_cache_check.h"
#include "kernels/kernel_util.h"
#include "pinned_pool.h"

namespace xrt::cuda::attn {

// A cache (inputs[cache]) with cache_seqlens at inputs[lens] and the
// optional block_table after it, as the kernels address it.
struct KvCache {
  const xrt_kernel_tensor_t* k;
  const int32_t* seqlens;  // device
  const int32_t* table;    // device; nullptr: contiguous
  int64_t max_blocks;
  int64_t max_len = 0;  // the longest sequence, after CacheReadback::finish

  // Rows per block when paged, the capacity when contiguous: either way
  // position p of sequence b is row (b or table[b][p / rows]) * rows + p % rows.
  int64_t rows() const { return k->shape[1]; }
};

inline KvCache kv_cache_of(const xrt_kernel_context_t* ctx, size_t cache, size_t lens) {
  const xrt_kernel_tensor_t& t = ctx->inputs[lens + 1];
  return {&ctx->inputs[cache], static_cast<const int32_t*>(ctx->inputs[lens].data),
          static_cast<const int32_t*>(t.data), t.data ? t.shape[1] : 0};
}

// cache_seqlens and block_table on their way to the host: start() queues
// their copies into page-locked memory behind the work already on the
// stream, finish() waits for the copies alone and checks the values. A
// kernel queued in between runs while the host waits, so the check leaves
// the GPU no idle time; such a kernel must stay inside the cache whatever
// the values (finish() may then refuse them).
class CacheReadback {
 public:
  CacheReadback() = default;
  CacheReadback(const CacheReadback&) = delete;
  CacheReadback& operator=(const CacheReadback&) = delete;
  ~CacheReadback() {
    if (done_) {
      cudaEventSynchronize(done_);
      cudaEventDestroy(done_);
    }
    if (host_) PinnedPool::get().free(host_);
  }

  xrt_status_t start(const xrt_kernel_context_t* ctx, const KvCache& c, int64_t batch,
                     cudaStream_t stream) {
    batch_ = batch;
    table_size_ = c.table ? batch * c.max_blocks : 0;
    if (batch == 0) return XRT_OK;
    const size_t bytes = sizeof(int32_t) * static_cast<size_t>(batch + table_size_);
    void* ptr = nullptr;
    if (PinnedPool::get().allocate(bytes, &ptr) != XRT_OK) {
      return fail(ctx, XRT_ERROR_OUT_OF_MEMORY,
                  "cuda %s: no page-locked memory for %zu bytes of cache_seqlens and "
                  "block_table", op_name(ctx), bytes);
    }
    host_ = static_cast<int32_t*>(ptr);
    cudaError_t err = cudaMemcpyAsync(host_, c.seqlens, sizeof(int32_t) * batch,
                                      cudaMemcpyDeviceToHost, stream);
    if (err == cudaSuccess && table_size_) {
      err = cudaMemcpyAsync(host_ + batch, c.table, sizeof(int32_t) * table_size_,
                            cudaMemcpyDeviceToHost, stream);
    }
    if (err == cudaSuccess) err = cudaEventCreateWithFlags(&done_, cudaEventDisableTiming);
    if (err == cudaSuccess) err = cudaEventRecord(done_, stream);
    if (err != cudaSuccess) {
      cudaStreamSynchronize(stream);  // no copy may still write host_ once it is freed
      return failure(ctx, err);
    }
    return XRT_OK;
  }

  // Positions [0, cache_seqlens[b] + extra) fit the cache and their blocks
  // exist; sets c.max_len.
  xrt_status_t finish(const xrt_kernel_context_t* ctx, KvCache& c, int64_t extra) {
    if (batch_ == 0) return XRT_OK;
    const cudaError_t err = cudaEventSynchronize(done_);
    if (err != cudaSuccess) return failure(ctx, err);
    const kernel::KvCacheShape shape{c.k->shape[0], c.k->shape[1],
                                     table_size_ ? host_ + batch_ : nullptr, c.max_blocks};
    const xrt_status_t status = kernel::check_kv_cache(ctx, shape, host_, batch_, extra);
    if (status != XRT_OK) return status;
    c.max_len = *std::max_element(host_, host_ + batch_);
    return XRT_OK;
  }

 private:
  static xrt_status_t failure(const xrt_kernel_context_t* ctx, cudaError_t err) {
    cudaGetLastError();
    return fail(ctx, XRT_ERROR_BACKEND, "cuda %s: reading cache_seqlens and block_table: %s: %s",
                op_name(ctx), cudaGetErrorName(err), cudaGetErrorString(err));
  }

  int32_t* host_ = nullptr;  // page-locked: lengths, then the table
  cudaEvent_t done_ = nullptr;
  int64_t batch_ = 0;
  int64_t table_size_ = 0;
};

// The cache row holding position pos of sequence b (checked positions only:
// kv_cache_append's).
__device__ __forceinline__ int64_t cache_row(const int32_t* table, int64_t max_blocks,
                                             int rows, int b, int pos) {
  if (!table) return static_cast<int64_t>(b) * rows + pos;
  return static_cast<int64_t>(table[static_cast<int64_t>(b) * max_blocks + pos / rows]) * rows +
         pos % rows;
}

}  // namespace xrt::cuda::attn

#endif  // XRT_CUDA_ATTENTION_KV_CACHE_HOST_H_
