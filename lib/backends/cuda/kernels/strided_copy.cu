// copy_strided: dst = src for two views of one shape and dtype. Only the
// element size matters, so the kernel moves words of up to 16 bytes: where
// both views have contiguous inner runs (a transposed head layout, a column
// slice), several elements travel as one word, which keeps the index math
// per byte low enough for the copy to run near memory bandwidth.
#include <cstdint>

#include "indexing.h"
#include "kernel_util.h"
#include "kernels.h"
#include "launch_check.h"

namespace xrt::cuda {
namespace {

constexpr int kThreads = 256;

// Offsets of both sides come from the linear index over the collapsed shape;
// when dst is contiguous its offset is the index itself, so stores coalesce.
template <class W, class I, bool kDstContiguous>
__global__ void __launch_bounds__(kThreads)
    copy_kernel(W* __restrict__ dst, const W* __restrict__ src, I n, StridedShape<2> s) {
  const I step = static_cast<I>(gridDim.x) * blockDim.x;
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    I off[2];
    strided_offsets(s, i, off);
    dst[kDstContiguous ? i : off[0]] = src[off[1]];
  }
}

template <class W, class I>
void launch_copy(void* dst, const void* src, int64_t n, const StridedShape<2>& s,
                 cudaStream_t stream) {
  const unsigned grid = grid_for(n, kThreads);
  W* d = static_cast<W*>(dst);
  const W* p = static_cast<const W*>(src);
  if (is_contiguous(s, 0)) {
    copy_kernel<W, I, true><<<grid, kThreads, 0, stream>>>(d, p, static_cast<I>(n), s);
  } else {
    copy_kernel<W, I, false><<<grid, kThreads, 0, stream>>>(d, p, static_cast<I>(n), s);
  }
}

template <class W>
void launch_copy(void* dst, const void* src, int64_t n, const StridedShape<2>& s,
                 cudaStream_t stream) {
  if (fits_int32(s, n)) {
    launch_copy<W, int32_t>(dst, src, n, s, stream);
  } else {
    launch_copy<W, int64_t>(dst, src, n, s, stream);
  }
}

// The widest word (16, 8, 4 bytes, or elem itself) that both views can be
// read and written in: each inner run, every other stride and both
// addresses must be multiples of it. Rewrites s in units of that word.
size_t widen(StridedShape<2>& s, size_t elem, const void* dst, const void* src) {
  if (s.ndim == 0 || s.strides[0][0] != 1 || s.strides[1][0] != 1) return elem;
  const auto address = [](const void* p) { return reinterpret_cast<uintptr_t>(p); };
  for (size_t word = 16; word > elem; word /= 2) {
    const int64_t per = static_cast<int64_t>(word / elem);
    bool fits = address(dst) % word == 0 && address(src) % word == 0 && s.shape[0] % per == 0;
    for (int d = 1; d < s.ndim && fits; ++d)
      fits = s.strides[0][d] % per == 0 && s.strides[1][d] % per == 0;
    if (!fits) continue;
    s.shape[0] /= per;
    for (int d = 1; d < s.ndim; ++d) {
      s.strides[0][d] /= per;
      s.strides[1][d] /= per;
    }
    return word;
  }
  return elem;
}

xrt_status_t copy_error(char* error, size_t capacity, xrt_status_t status, const char* message) {
  if (error && capacity > 0) std::snprintf(error, capacity, "cuda copy_strided: %s", message);
  return status;
}

}  // namespace

xrt_status_t copy_strided(const xrt_kernel_tensor_t* dst, const xrt_kernel_tensor_t* src,
                          cudaStream_t stream, char* error, size_t capacity) {
  if (dst->dtype != src->dtype || dst->ndim != src->ndim) {
    return copy_error(error, capacity, XRT_ERROR_INVALID_ARGUMENT,
                      "dtype and rank of dst and src differ");
  }
  if (dst->ndim > kMaxDims) {
    return copy_error(error, capacity, XRT_ERROR_UNSUPPORTED, "more than 8 dimensions");
  }
  for (int32_t d = 0; d < dst->ndim; ++d) {
    if (dst->shape[d] != src->shape[d]) {
      return copy_error(error, capacity, XRT_ERROR_INVALID_ARGUMENT, "shapes differ");
    }
  }
  const size_t elem = dtypes::size_of(dst->dtype);
  if (elem == 0) return copy_error(error, capacity, XRT_ERROR_UNSUPPORTED, "unknown dtype");
  const int64_t n = numel(*dst);
  if (n == 0) return XRT_OK;

  const xrt_kernel_tensor_t* const ops[2] = {dst, src};
  StridedShape<2> s = collapse_dims(ops);
  if (is_contiguous(s, 0) && is_contiguous(s, 1)) {
    cudaMemcpyAsync(dst->data, src->data, static_cast<size_t>(n) * elem,
                    cudaMemcpyDeviceToDevice, stream);
  } else {
    const size_t word = widen(s, elem, dst->data, src->data);
    const int64_t words = n * static_cast<int64_t>(elem) / static_cast<int64_t>(word);
    switch (word) {
      case 1: launch_copy<uint8_t>(dst->data, src->data, words, s, stream); break;
      case 2: launch_copy<uint16_t>(dst->data, src->data, words, s, stream); break;
      case 4: launch_copy<uint32_t>(dst->data, src->data, words, s, stream); break;
      case 8: launch_copy<uint64_t>(dst->data, src->data, words, s, stream); break;
      default: launch_copy<uint4>(dst->data, src->data, words, s, stream); break;
    }
  }
  return check_launch("copy_strided", error, capacity);
}

}  // namespace xrt::cuda
