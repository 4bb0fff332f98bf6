// Offsets of strided operands from a linear index over their common shape.
// Dimensions are collapsed on the host first (size-1 axes dropped, axes that
// are contiguous with their inner neighbour in every operand merged), which
// turns most real layouts into one or two dimensions of index math.
#ifndef XRT_CUDA_KERNELS_INDEXING_H_
#define XRT_CUDA_KERNELS_INDEXING_H_

#include <cstdint>
#include <cstdlib>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {

constexpr int kMaxDims = 8;

// K operands sharing one shape; dimension 0 is the innermost.
template <int K>
struct StridedShape {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t strides[K][kMaxDims];
};

// ops[k] are views of one shape with ndim <= kMaxDims.
template <int K>
StridedShape<K> collapse_dims(const xrt_kernel_tensor_t* const (&ops)[K]) {
  StridedShape<K> s{};
  s.ndim = 0;
  const xrt_kernel_tensor_t& ref = *ops[0];
  for (int32_t d = ref.ndim - 1; d >= 0; --d) {
    if (ref.shape[d] == 1) continue;
    bool merge = s.ndim > 0;
    for (int k = 0; k < K && merge; ++k) {
      const int i = s.ndim - 1;
      merge = ops[k]->strides[d] == s.strides[k][i] * s.shape[i];
    }
    if (merge) {
      s.shape[s.ndim - 1] *= ref.shape[d];
      continue;
    }
    for (int k = 0; k < K; ++k) s.strides[k][s.ndim] = ops[k]->strides[d];
    s.shape[s.ndim] = ref.shape[d];
    ++s.ndim;
  }
  return s;
}

// True when operand k walks memory in order (offset == linear index).
template <int K>
bool is_contiguous(const StridedShape<K>& s, int k) {
  return s.ndim == 0 || (s.ndim == 1 && s.strides[k][0] == 1);
}

// Whether every offset and the linear index fit in int32 arithmetic.
template <int K>
bool fits_int32(const StridedShape<K>& s, int64_t count) {
  constexpr int64_t kLimit = INT32_MAX;
  if (count > kLimit) return false;
  for (int k = 0; k < K; ++k) {
    int64_t span = 0;
    for (int d = 0; d < s.ndim; ++d) span += (s.shape[d] - 1) * std::llabs(s.strides[k][d]);
    if (span > kLimit) return false;
  }
  return true;
}

template <int K, class I>
__device__ __forceinline__ void strided_offsets(const StridedShape<K>& s, I linear, I (&off)[K]) {
#pragma unroll
  for (int k = 0; k < K; ++k) off[k] = 0;
#pragma unroll
  for (int d = 0; d < kMaxDims; ++d) {
    if (d >= s.ndim) break;
    const I extent = static_cast<I>(s.shape[d]);
    const I q = linear / extent;
    const I r = linear - q * extent;
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] += r * static_cast<I>(s.strides[k][d]);
    linear = q;
  }
}

}  // namespace xrt::cuda

#endif  // XRT_CUDA_KERNELS_INDEXING_H_
