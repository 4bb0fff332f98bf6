// Inline-PTX wrappers for the sm_80+ tensor-core path of the attention
// kernels: mma.sync m16n8k16 with fp32 accumulators, ldmatrix and cp.async.
//
// Fragment layouts of mma.m16n8k16 (PTX ISA), g = lane / 4, t = lane % 4:
//   A 16x16 row-major, 4 x b32:  a[0] = A[g][2t..2t+1]     a[1] = A[g+8][2t..2t+1]
//                                a[2] = A[g][2t+8..2t+9]   a[3] = A[g+8][2t+8..2t+9]
//   B 16x8 (k x n), 2 x b32:     b[0] = B[2t..2t+1][g]     b[1] = B[2t+8..2t+9][g]
//   C 16x8 f32, 4 x f32:         c[0..1] = C[g][2t..2t+1]  c[2..3] = C[g+8][2t..2t+1]
// ldmatrix gives lane l of each 8x8 matrix the pair M[g][2t..2t+1]; with
// .trans the pair M[2t..2t+1][g]. Lanes 8m..8m+7 supply the row addresses of
// matrix m, and matrix m lands in register m.
#ifndef XRT_CUDA_ATTENTION_MMA_H_
#define XRT_CUDA_ATTENTION_MMA_H_

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace xrt::cuda::attn {

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// d += a * b for one 16x8x16 tile.
template <class T>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1);

template <>
__device__ __forceinline__ void mma16816<__half>(float (&d)[4], const uint32_t (&a)[4],
                                                 uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4],
                                                        uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four 8x8 matrices of 16-bit elements.
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// Copies 16 bytes, or writes 16 zero bytes when !valid (src is not read).
__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, bool valid) {
  const int bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(bytes));
}

__device__ __forceinline__ void cp_async4(uint32_t dst, const void* src, bool valid) {
  const int bytes = valid ? 4 : 0;
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src),
               "r"(bytes));
}

__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}

// Waits until at most N committed groups of this thread are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Two floats rounded to T, the first in the low half (the lower column).
template <class T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi);

template <>
__device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

// sum_c a[c] * b[c] over kD 16-bit elements, by one warp (16 bytes per lane
// and step); every lane gets the sum.
template <class T, int kD>
__device__ __forceinline__ float warp_row_dot(const T* a, const T* b, int lane) {
  constexpr int kVec = 8;
  float sum = 0.0f;
  for (int c = lane * kVec; c < kD; c += 32 * kVec) {
    const uint4 x4 = *reinterpret_cast<const uint4*>(a + c);
    const uint4 y4 = *reinterpret_cast<const uint4*>(b + c);
    const T* x = reinterpret_cast<const T*>(&x4);
    const T* y = reinterpret_cast<const T*>(&y4);
#pragma unroll
    for (int i = 0; i < kVec; ++i) sum = fmaf(static_cast<float>(x[i]), static_cast<float>(y[i]), sum);
  }
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, m);
  return sum;
}

// Copies rows [row0, row0 + kRows) of a (len, kD) matrix whose rows lie
// src_stride elements apart into shared memory rows of kStride elements, 16
// bytes per cp.async; rows at or past len are zero-filled.
template <class T, int kD, int kRows, int kStride, int kThreads>
__device__ __forceinline__ void load_rows(T* dst, const T* src, int row0, int len, int tid,
                                          int src_stride = kD) {
  constexpr int kChunks = kD * static_cast<int>(sizeof(T)) / 16;
  constexpr int kPerRow = 16 / static_cast<int>(sizeof(T));
  static_assert(kRows * kChunks % kThreads == 0, "tile does not split evenly over threads");
#pragma unroll
  for (int i = 0; i < kRows * kChunks / kThreads; ++i) {
    const int c = tid + i * kThreads;
    const int row = c / kChunks;
    const int col = (c % kChunks) * kPerRow;
    const bool valid = row0 + row < len;
    const T* from = valid ? src + static_cast<int64_t>(row0 + row) * src_stride + col : src;
    cp_async16(smem_u32(dst + row * kStride + col), from, valid);
  }
}

}  // namespace xrt::cuda::attn

#endif  // XRT_CUDA_ATTENTION_MMA_H_
