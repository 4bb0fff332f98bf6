// "kv_cache_append" on CUDA: new rows of k and v (batch, new_len, heads_kv,
// head_dim) copied into the caches at positions cache_seqlens[b] .. + new_len,
// in place, in the widest word that divides a row; returns the new lengths.
#include <climits>
#include <cstdint>

#include "attention/attention.h"
#include "attention/kv_cache_host.h"
#include "kernels/kernel_util.h"
#include "kernels/launch_check.h"

namespace xrt::cuda {
namespace {

template <class Word>
__global__ void append_rows(const Word* __restrict__ src, Word* __restrict__ cache,
                            int64_t words_per_row, int64_t total, int new_len,
                            const int32_t* __restrict__ seqlens, const int32_t* __restrict__ table,
                            int64_t max_blocks, int cache_rows) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t src_row = i / words_per_row;
    const int b = static_cast<int>(src_row / new_len);
    const int pos = seqlens[b] + static_cast<int>(src_row % new_len);
    const int64_t row = attn::cache_row(table, max_blocks, cache_rows, b, pos);
    cache[row * words_per_row + i % words_per_row] = src[i];
  }
}

__global__ void grown_lengths(const int32_t* __restrict__ seqlens, int32_t* __restrict__ out,
                              int batch, int new_len) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b < batch) out[b] = seqlens[b] + new_len;
}

template <class Word>
void launch_append(const xrt_kernel_tensor_t& src, void* cache, size_t row_bytes,
                   const attn::KvCache& c, cudaStream_t stream) {
  const int64_t words = static_cast<int64_t>(row_bytes / sizeof(Word));
  const int64_t total = src.shape[0] * src.shape[1] * words;
  constexpr int kThreads = 256;
  append_rows<Word><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
      static_cast<const Word*>(src.data), static_cast<Word*>(cache), words, total,
      static_cast<int>(src.shape[1]), c.seqlens, c.table, c.max_blocks,
      static_cast<int>(c.rows()));
}

// One row (heads_kv x head_dim) of src into cache, in the widest word that
// divides the row and both addresses.
void append(const xrt_kernel_tensor_t& src, void* cache, const attn::KvCache& c,
            cudaStream_t stream) {
  const size_t row_bytes =
      static_cast<size_t>(src.shape[2] * src.shape[3]) * dtypes::size_of(src.dtype);
  const uintptr_t bits = row_bytes | reinterpret_cast<uintptr_t>(src.data) |
                         reinterpret_cast<uintptr_t>(cache);
  if (bits % 16 == 0) return launch_append<uint4>(src, cache, row_bytes, c, stream);
  if (bits % 8 == 0) return launch_append<uint2>(src, cache, row_bytes, c, stream);
  if (bits % 4 == 0) return launch_append<uint32_t>(src, cache, row_bytes, c, stream);
  if (bits % 2 == 0) return launch_append<uint16_t>(src, cache, row_bytes, c, stream);
  launch_append<uint8_t>(src, cache, row_bytes, c, stream);
}

}  // namespace

xrt_status_t run_kv_cache_append(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& k = ctx->inputs[2];
  const xrt_kernel_tensor_t& v = ctx->inputs[3];
  const int64_t batch = k.shape[0], new_len = k.shape[1];
  if (batch > INT_MAX || ctx->inputs[0].shape[1] > INT_MAX) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cuda %s: batch %lld or cache rows %lld is too "
                "large (at most %d)", op_name(ctx), static_cast<long long>(batch),
                static_cast<long long>(ctx->inputs[0].shape[1]), INT_MAX);
  }
  const cudaStream_t stream = stream_of(ctx);
  attn::KvCache cache = attn::kv_cache_of(ctx, 0, 4);
  // Checked before anything is written: a refused call leaves the caches as they were.
  attn::CacheReadback readback;
  xrt_status_t status = readback.start(ctx, cache, batch, stream);
  if (status == XRT_OK) status = readback.finish(ctx, cache, new_len);
  if (status != XRT_OK || batch == 0) return status;
  if (cache.max_len + new_len > INT32_MAX) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED, "cuda %s: a length of %lld + %lld rows does not fit "
                "int32", op_name(ctx), static_cast<long long>(cache.max_len),
                static_cast<long long>(new_len));
  }
  if (new_len > 0 && k.shape[2] * k.shape[3] > 0) append(k, ctx->inputs[0].data, cache, stream);
  if (new_len > 0 && v.shape[2] * v.shape[3] > 0) append(v, ctx->inputs[1].data, cache, stream);
  constexpr int kThreads = 256;
  grown_lengths<<<static_cast<unsigned>((batch + kThreads - 1) / kThreads), kThreads, 0,
                  stream>>>(cache.seqlens, static_cast<int32_t*>(ctx->outputs[0].data),
                            static_cast<int>(batch), static_cast<int>(new_len));
  return check_launch(ctx);
}

}  // namespace xrt::cuda
