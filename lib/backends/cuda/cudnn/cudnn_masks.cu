#include "cudnn_masks.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

#include "kernels/kernel_util.h"

namespace xrt::cuda::cudnn_masks {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;

__device__ __forceinline__ int64_t clamp64(int64_t x, int64_t lo, int64_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// The mask value at element offset `at` as a float added to the score.
__device__ __forceinline__ float mask_value(const void* data, xrt_dtype_t dtype, int64_t at) {
  switch (dtype) {
    case XRT_BOOL: return static_cast<const uint8_t*>(data)[at] ? 0.0f : -INFINITY;
    case XRT_FLOAT32: return static_cast<const float*>(data)[at];
    case XRT_FLOAT64: return static_cast<float>(static_cast<const double*>(data)[at]);
    case XRT_FLOAT16: return __half2float(static_cast<const __half*>(data)[at]);
    default: return __bfloat162float(static_cast<const __nv_bfloat16*>(data)[at]);
  }
}

// Whether a key is attended: bool True, or any float but -inf (a NaN is
// attended and poisons the row, as on the CPU).
__device__ __forceinline__ bool mask_attends(const void* data, xrt_dtype_t dtype, int64_t at) {
  if (dtype == XRT_BOOL) return static_cast<const uint8_t*>(data)[at] != 0;
  return !(mask_value(data, dtype, at) == -INFINITY);
}

template <class T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

template <class T>
__device__ __forceinline__ float max_finite();
template <>
__device__ __forceinline__ float max_finite<__half>() {
  return 65504.0f;
}
template <>
__device__ __forceinline__ float max_finite<__nv_bfloat16>() {
  return 3.3895313892515355e38f;
}

template <class T>
__global__ void mask_to_bias_kernel(MaskRef mask, int64_t nh, int64_t lq, int64_t lk, int64_t ld,
                                    int64_t total, T* bias) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t j = e % lk;
    const int64_t rest = e / lk;
    const int64_t i = rest % lq;
    const int64_t bh = rest / lq;
    const int64_t hh = bh % nh, bb = bh / nh;
    const int64_t at = bb * mask.strides[0] + hh * mask.strides[1] + i * mask.strides[2] +
                       j * mask.strides[3];
    float v = mask_value(mask.data, mask.dtype, at);
    if (isfinite(v)) v = fminf(fmaxf(v, -max_finite<T>()), max_finite<T>());
    bias[rest * ld + j] = from_float<T>(v);
  }
}

__global__ void sequence_lengths_kernel(const int32_t* key_lengths, int64_t batch, int32_t lq,
                                        int32_t lk, int32_t* seq_q, int32_t* seq_kv) {
  for (int64_t b = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; b < batch;
       b += int64_t{gridDim.x} * blockDim.x) {
    seq_q[b] = lq;
    const int32_t n = key_lengths ? key_lengths[b] : lk;
    seq_kv[b] = n < 0 ? 0 : (n > lk ? lk : n);
  }
}

// [begin, end) of the keys a query sees; the CPU kernels' KeyRange.
struct Range {
  int64_t begin, end;
};
__device__ __forceinline__ Range key_range(int64_t i, int64_t valid, int64_t lq, bool causal,
                                           bool bottom_right, int64_t window) {
  const int64_t offset = bottom_right ? valid - lq : 0;
  const int64_t begin = window < 0 ? 0 : clamp64(i + offset - window, 0, valid);
  const int64_t end = causal ? clamp64(i + offset + 1, 0, valid) : valid;
  return {begin, end};
}

template <class T>
__device__ __forceinline__ void zero_row(T* row, int64_t stride, int64_t dv, int lane) {
  for (int64_t x = lane; x < dv; x += 32) row[x * stride] = from_float<T>(0.0f);
}

// One warp per (b, h, i) row.
template <class T>
__global__ void fix_masked_rows_kernel(KeyRule rule, MaskRef mask, int64_t h, int64_t lq,
                                       int64_t rows, T* out, int64_t s0, int64_t s1, int64_t s2,
                                       int64_t s3, int64_t dv, float* lse, float masked_lse) {
  const int lane = threadIdx.x % 32;
  for (int64_t row = (blockIdx.x * int64_t{blockDim.x} + threadIdx.x) / 32; row < rows;
       row += int64_t{gridDim.x} * kWarpsPerBlock) {
    const int64_t i = row % lq, bh = row / lq;
    const int64_t hh = bh % h, b = bh / h;
    const int64_t valid =
        rule.key_lengths ? clamp64(rule.key_lengths[b], 0, rule.lk) : rule.lk;
    const Range r = key_range(i, valid, lq, rule.causal, rule.bottom_right, rule.window);
    bool seen = r.begin < r.end;
    if (seen && mask.data) {
      const int64_t base = b * mask.strides[0] + hh * mask.strides[1] + i * mask.strides[2];
      seen = false;
      for (int64_t j0 = r.begin; j0 < r.end && !seen; j0 += 32) {
        const int64_t j = j0 + lane;
        const bool attends = j < r.end && mask_attends(mask.data, mask.dtype,
                                                       base + j * mask.strides[3]);
        seen = __any_sync(0xffffffffu, attends);
      }
    }
    if (seen) continue;
    zero_row(out + b * s0 + hh * s1 + i * s2, s3, dv, lane);
    if (lse && lane == 0) lse[row] = masked_lse;
  }
}

__global__ void lse_for_backward_kernel(const float* lse, int64_t s0, int64_t s1, int64_t s2,
                                        int64_t h, int64_t lq, int64_t total, float* dst) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = e % lq, bh = e / lq;
    const float v = lse[(bh / h) * s0 + (bh % h) * s1 + i * s2];
    dst[e] = v == -INFINITY ? INFINITY : v;
  }
}

// The sequence b whose rows hold row t: the last b with cu[b] <= t (empty
// sequences share their start with the next one).
__device__ __forceinline__ int64_t sequence_of(const int32_t* cu, int64_t batch, int64_t t) {
  int64_t lo = 0, hi = batch - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (cu[mid] <= t) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// One warp per (h, t) row.
template <class T>
__global__ void varlen_finish_kernel(const int32_t* cu_q, const int32_t* cu_k, int64_t batch,
                                     int64_t h, int64_t total_q, int64_t max_q, bool causal,
                                     bool bottom_right, int64_t window, T* out, int64_t dv,
                                     const float* stats, float* lse_out) {
  const int lane = threadIdx.x % 32;
  const int64_t rows = h * total_q;
  for (int64_t row = (blockIdx.x * int64_t{blockDim.x} + threadIdx.x) / 32; row < rows;
       row += int64_t{gridDim.x} * kWarpsPerBlock) {
    const int64_t t = row % total_q, hh = row / total_q;
    const int64_t b = sequence_of(cu_q, batch, t);
    const int64_t s = t - cu_q[b], lq = cu_q[b + 1] - cu_q[b];
    const int64_t valid = cu_k[b + 1] - cu_k[b];
    const Range r = key_range(s, valid, lq, causal, bottom_right, window);
    const bool seen = r.begin < r.end;
    if (!seen) zero_row(out + (t * h + hh) * dv, 1, dv, lane);
    if (lse_out && lane == 0) {
      lse_out[hh * total_q + t] = seen ? stats[(b * h + hh) * max_q + s] : -INFINITY;
    }
  }
}

__global__ void varlen_stats_kernel(const int32_t* cu_q, int64_t batch, int64_t h,
                                    int64_t total_q, int64_t max_q, const float* lse,
                                    float* stats) {
  const int64_t rows = h * total_q;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < rows;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t t = e % total_q, hh = e / total_q;
    const int64_t b = sequence_of(cu_q, batch, t);
    const float v = lse[e];
    stats[(b * h + hh) * max_q + (t - cu_q[b])] = v == -INFINITY ? INFINITY : v;
  }
}

unsigned warp_grid(int64_t rows) { return grid_for(rows * 32, kThreads); }

}  // namespace

cudaError_t mask_to_bias(const MaskRef& mask, xrt_dtype_t dtype, int64_t nb, int64_t nh,
                         int64_t lq, int64_t lk, int64_t ld, void* bias, cudaStream_t stream) {
  const int64_t total = nb * nh * lq * lk;
  if (total == 0) return cudaSuccess;
  const unsigned grid = grid_for(total, kThreads);
  if (dtype == XRT_FLOAT16) {
    mask_to_bias_kernel<<<grid, kThreads, 0, stream>>>(mask, nh, lq, lk, ld, total,
                                                       static_cast<__half*>(bias));
  } else {
    mask_to_bias_kernel<<<grid, kThreads, 0, stream>>>(mask, nh, lq, lk, ld, total,
                                                       static_cast<__nv_bfloat16*>(bias));
  }
  return cudaGetLastError();
}

cudaError_t sequence_lengths(const int32_t* key_lengths, int64_t batch, int64_t lq, int64_t lk,
                             int32_t* seq_q, int32_t* seq_kv, cudaStream_t stream) {
  if (batch == 0) return cudaSuccess;
  sequence_lengths_kernel<<<grid_for(batch, kThreads), kThreads, 0, stream>>>(
      key_lengths, batch, static_cast<int32_t>(lq), static_cast<int32_t>(lk), seq_q, seq_kv);
  return cudaGetLastError();
}

cudaError_t fix_masked_rows(const KeyRule& rule, const MaskRef& mask, int64_t b, int64_t h,
                            int64_t lq, void* out, const int64_t out_strides[4], int64_t dv,
                            xrt_dtype_t dtype, float* lse, float masked_lse, cudaStream_t stream) {
  const int64_t rows = b * h * lq;
  if (rows == 0) return cudaSuccess;
  const int64_t* s = out_strides;
  if (dtype == XRT_FLOAT16) {
    fix_masked_rows_kernel<<<warp_grid(rows), kThreads, 0, stream>>>(
        rule, mask, h, lq, rows, static_cast<__half*>(out), s[0], s[1], s[2], s[3], dv, lse,
        masked_lse);
  } else {
    fix_masked_rows_kernel<<<warp_grid(rows), kThreads, 0, stream>>>(
        rule, mask, h, lq, rows, static_cast<__nv_bfloat16*>(out), s[0], s[1], s[2], s[3], dv,
        lse, masked_lse);
  }
  return cudaGetLastError();
}

cudaError_t lse_for_backward(const float* lse, const int64_t strides[3], int64_t b, int64_t h,
                             int64_t lq, float* dst, cudaStream_t stream) {
  const int64_t total = b * h * lq;
  if (total == 0) return cudaSuccess;
  lse_for_backward_kernel<<<grid_for(total, kThreads), kThreads, 0, stream>>>(
      lse, strides[0], strides[1], strides[2], h, lq, total, dst);
  return cudaGetLastError();
}

cudaError_t varlen_finish(const int32_t* cu_q, const int32_t* cu_k, int64_t batch, int64_t h,
                          int64_t total_q, int64_t max_q, bool causal, bool bottom_right,
                          int64_t window, void* out, int64_t dv, xrt_dtype_t dtype,
                          const float* stats, float* lse_out, cudaStream_t stream) {
  const int64_t rows = h * total_q;
  if (rows == 0 || batch == 0) return cudaSuccess;
  if (dtype == XRT_FLOAT16) {
    varlen_finish_kernel<<<warp_grid(rows), kThreads, 0, stream>>>(
        cu_q, cu_k, batch, h, total_q, max_q, causal, bottom_right, window,
        static_cast<__half*>(out), dv, stats, lse_out);
  } else {
    varlen_finish_kernel<<<warp_grid(rows), kThreads, 0, stream>>>(
        cu_q, cu_k, batch, h, total_q, max_q, causal, bottom_right, window,
        static_cast<__nv_bfloat16*>(out), dv, stats, lse_out);
  }
  return cudaGetLastError();
}

cudaError_t varlen_stats(const int32_t* cu_q, int64_t batch, int64_t h, int64_t total_q,
                         int64_t max_q, const float* lse, float* stats, cudaStream_t stream) {
  const int64_t rows = h * total_q;
  if (rows == 0 || batch == 0) return cudaSuccess;
  varlen_stats_kernel<<<grid_for(rows, kThreads), kThreads, 0, stream>>>(cu_q, batch, h,
                                                                         total_q, max_q, lse,
                                                                         stats);
  return cudaGetLastError();
}

}  // namespace xrt::cuda::cudnn_masks
