// Plumbing for kernels that work on rows (softmax, the norms): reductions
// over the threads of one row, and the launch shape for keeping a whole row
// in registers.
//
// A row is handled by blockDim.x threads. When blockDim.x == 32 a block
// holds blockDim.y rows, one per warp, and reductions stay in the warp;
// otherwise blockDim.y == 1 and reductions go through shared memory.
#ifndef XRT_CUDA_KERNELS_ROWS_H_
#define XRT_CUDA_KERNELS_ROWS_H_

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace xrt::cuda {

constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
  return v;
}

__device__ __forceinline__ float2 warp_sum(float2 v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    v.x += __shfl_xor_sync(kFullMask, v.x, o);
    v.y += __shfl_xor_sync(kFullMask, v.y, o);
  }
  return v;
}

// Shared slots for one cross-warp reduction. Every thread gets the result
// after a single barrier; a caller must rotate between at least two buffers
// so a later reduction never overwrites slots another warp is still reading.
template <class T>
struct RowBuf {
  T slot[32];
};

__device__ __forceinline__ float row_sum(float v, RowBuf<float>& buf) {
  v = warp_sum(v);
  if (blockDim.x <= 32) return v;
  const int lane = threadIdx.x & 31;
  if (lane == 0) buf.slot[threadIdx.x >> 5] = v;
  __syncthreads();
  return warp_sum(lane < static_cast<int>(blockDim.x >> 5) ? buf.slot[lane] : 0.0f);
}

__device__ __forceinline__ float row_max(float v, RowBuf<float>& buf) {
  v = warp_max(v);
  if (blockDim.x <= 32) return v;
  const int lane = threadIdx.x & 31;
  if (lane == 0) buf.slot[threadIdx.x >> 5] = v;
  __syncthreads();
  return warp_max(lane < static_cast<int>(blockDim.x >> 5) ? buf.slot[lane] : -INFINITY);
}

__device__ __forceinline__ float2 row_sum(float2 v, RowBuf<float2>& buf) {
  v = warp_sum(v);
  if (blockDim.x <= 32) return v;
  const int lane = threadIdx.x & 31;
  if (lane == 0) buf.slot[threadIdx.x >> 5] = v;
  __syncthreads();
  return warp_sum(lane < static_cast<int>(blockDim.x >> 5) ? buf.slot[lane]
                                                           : make_float2(0.0f, 0.0f));
}

// Launch shape of a row-in-registers kernel: each thread holds `packs`
// 16-byte packs of a row of `row_packs` packs.
struct RowLaunch {
  int packs;
  dim3 block;
};

constexpr int kRowsPerWarpBlock = 4;
constexpr int kMaxWarpRowPacks = 4;

// Picks the fewest packs per thread (a power of two up to max_packs) that
// keeps a row within target_threads threads, using one warp per row for
// short rows. Returns false when the row does not fit in registers.
inline bool pick_row_launch(int64_t row_packs, int max_packs, int target_threads,
                            int max_threads, RowLaunch* out) {
  if (row_packs <= 0) return false;
  for (int p = 1; p <= std::min(max_packs, kMaxWarpRowPacks); p *= 2) {
    if (row_packs <= 32 * p) {
      *out = {p, dim3(32, kRowsPerWarpBlock)};
      return true;
    }
  }
  for (int p = 1; p <= max_packs; p *= 2) {
    const int64_t threads = (row_packs + p - 1) / p;
    if (threads <= target_threads || (p == max_packs && threads <= max_threads)) {
      *out = {p, dim3(static_cast<unsigned>((threads + 31) / 32 * 32), 1)};
      return true;
    }
  }
  return false;
}

// Threads per row for the kernels that stream a row from global memory.
inline dim3 generic_row_block(int64_t n) {
  return n <= 256 ? dim3(32, kRowsPerWarpBlock) : dim3(256, 1);
}

// Blocks for `rows` rows at block.y rows per block (grid-stride beyond).
inline unsigned row_grid(int64_t rows, const dim3& block) {
  const int64_t needed = (rows + block.y - 1) / block.y;
  return static_cast<unsigned>(std::min<int64_t>(needed, INT32_MAX));
}

}  // namespace xrt::cuda

#endif  // XRT_CUDA_KERNELS_ROWS_H_
