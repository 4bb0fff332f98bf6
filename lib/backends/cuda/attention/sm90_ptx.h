// Inline-PTX wrappers for the Hopper (sm_90a) attention kernels: mbarriers,
// TMA tensor and bulk copies, named barriers and wgmma.
//
// wgmma shared-memory operands are always the canonical 128-byte-swizzle
// layout that TMA writes with CU_TENSOR_MAP_SWIZZLE_128B: rows of 128 bytes
// (64 16-bit elements), 8-row groups 1024 bytes apart, 16-byte chunk c of
// row r stored at chunk c ^ (r % 8), each 64-column block 1024-byte aligned.
// Only meaningful in sm_90a device code; the header compiles anywhere.
#ifndef XRT_CUDA_ATTENTION_SM90_PTX_H_
#define XRT_CUDA_ATTENTION_SM90_PTX_H_

#include <cuda.h>  // CUtensorMap only
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace xrt::cuda::attn::sm90 {

// ---- mbarriers -----------------------------------------------------------------

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}

__device__ __forceinline__ void mbar_init_fence() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
               : "memory");
}

__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

// Waits until the phase of the given parity has completed (a fresh barrier
// counts its phase "before 0", parity 1, as completed).
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  uint32_t done;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!done);
}

// ---- copies ---------------------------------------------------------------------

// One box of a 3-D tensor map (coordinates: column, row, bh) into shared
// memory, completing on bar.
__device__ __forceinline__ void tma_load(uint32_t dst, const CUtensorMap* map, int c0, int c1,
                                         int c2, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%2, %3, %4}], [%5];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(bar)
      : "memory");
}

// bytes (a multiple of 16, both addresses 16-byte aligned) from global to
// shared memory, completing on bar.
__device__ __forceinline__ void bulk_load(uint32_t dst, const void* src, uint32_t bytes,
                                          uint32_t bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
      ::"r"(dst), "l"(src), "r"(bytes), "r"(bar)
      : "memory");
}

// Makes this thread's shared-memory stores visible to the async proxy
// (wgmma operands, bulk copies), once a barrier has been passed.
__device__ __forceinline__ void fence_async_smem() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// Barrier id (1..15; 0 is __syncthreads) among count threads.
__device__ __forceinline__ void named_barrier(uint32_t id, uint32_t count) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(count) : "memory");
}

__device__ __forceinline__ void st_shared_u32(uint32_t addr, uint32_t value) {
  asm volatile("st.shared.u32 [%0], %1;\n" ::"r"(addr), "r"(value) : "memory");
}

// ---- wgmma ------------------------------------------------------------------------

__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

// Pins the registers of an accumulator or fragment at this point, so the
// compiler moves no access to them across a wgmma issue or wait.
template <int N>
__device__ __forceinline__ void reg_fence(float (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(r[i])::"memory");
}
template <int N>
__device__ __forceinline__ void reg_fence(uint32_t (&r)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
#pragma unroll
    for (int e = 0; e < 4; ++e) asm volatile("" : "+r"(r[i][e])::"memory");
}

// Shared-memory matrix descriptor for a 128B-swizzled operand whose 8-row
// groups lie 1024 bytes apart (stride byte offset); lbo is the leading byte
// offset (MN-major: the distance between 64-element column blocks; unused
// for K-major, where it is encoded as 1).
__device__ __forceinline__ uint64_t smem_desc(uint32_t addr, uint32_t lbo) {
  return (uint64_t{1} << 62) | (uint64_t{1024 >> 4} << 32) |
         (static_cast<uint64_t>((lbo >> 4) & 0x3FFF) << 16) |
         static_cast<uint64_t>((addr & 0x3FFFF) >> 4);
}

__device__ __forceinline__ float ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// d (+)= A B for m64nNk16 with both operands in shared memory; A is 64 x 16,
// B is N x 16 (as wgmma counts them). kTrans = 0: both K-major; 1: both
// MN-major (transposed). accumulate = 0 overwrites d.
template <class T, int N, int kTrans>
__device__ __forceinline__ void wgmma_ss(float (&d)[N / 2], uint64_t da, uint64_t db,
                                         int accumulate);

// d += A B for m64nNk16: A from registers (the mma.sync A fragment layout per
// warp), B (16 x N) from shared memory, MN-major.
template <class T, int N>
__device__ __forceinline__ void wgmma_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t db);

// The accumulator operands of a 32- and a 64-register wgmma, and their
// register lists in the instruction text.
#define XRT_WGMMA_ACC32 "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
#define XRT_WGMMA_ACC64 XRT_WGMMA_ACC32, "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
#define XRT_WGMMA_REGS32 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define XRT_WGMMA_REGS64 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"

// Both operands from shared memory: N/2 accumulator registers (ACC, REGS),
// then the operand numbers of A's and B's descriptors and of the
// accumulate flag (DA_DB, FLAG); TRANS as the two transpose immediates.
#define XRT_DEFINE_WGMMA_SS(T, PTX, N, TRANS, ACC, REGS, DA_DB, FLAG)                         \
  template <>                                                                                \
  __device__ __forceinline__ void wgmma_ss<T, N, TRANS>(float(&d)[N / 2], uint64_t da,       \
                                                        uint64_t db, int accumulate) {       \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " FLAG ", 0;\n"                           \
                 "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32." PTX "." PTX " " REGS       \
                 ", " DA_DB ", p, 1, 1, " #TRANS ", " #TRANS ";\n}\n"                         \
                 : ACC                                                                       \
                 : "l"(da), "l"(db), "r"(accumulate));                                       \
  }

// A from registers: the A fragment and B's descriptor are operands A_B.
#define XRT_DEFINE_WGMMA_RS(T, PTX, N, ACC, REGS, A_B)                                        \
  template <>                                                                                \
  __device__ __forceinline__ void wgmma_rs<T, N>(float(&d)[N / 2], const uint32_t(&a)[4],    \
                                                 uint64_t db) {                              \
    asm volatile("wgmma.mma_async.sync.aligned.m64n" #N "k16.f32." PTX "." PTX " "           \
                 REGS ", " A_B ", 1, 1, 1, 1;\n"                                             \
                 : ACC                                                                       \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db));                     \
  }

// The products for one 16-bit type: C++ type T, PTX type name PTX.
#define XRT_DEFINE_WGMMA(T, PTX)                                                             \
  XRT_DEFINE_WGMMA_SS(T, PTX, 128, 0, XRT_WGMMA_ACC64, XRT_WGMMA_REGS64, "%64, %65", "%66")   \
  XRT_DEFINE_WGMMA_SS(T, PTX, 64, 0, XRT_WGMMA_ACC32, XRT_WGMMA_REGS32, "%32, %33", "%34")    \
  XRT_DEFINE_WGMMA_SS(T, PTX, 64, 1, XRT_WGMMA_ACC32, XRT_WGMMA_REGS32, "%32, %33", "%34")    \
  XRT_DEFINE_WGMMA_SS(T, PTX, 128, 1, XRT_WGMMA_ACC64, XRT_WGMMA_REGS64, "%64, %65", "%66")   \
  XRT_DEFINE_WGMMA_RS(T, PTX, 64, XRT_WGMMA_ACC32, XRT_WGMMA_REGS32,                          \
                      "{%32, %33, %34, %35}, %36")                                           \
  XRT_DEFINE_WGMMA_RS(T, PTX, 128, XRT_WGMMA_ACC64, XRT_WGMMA_REGS64,                         \
                      "{%64, %65, %66, %67}, %68")

XRT_DEFINE_WGMMA(__half, "f16")
XRT_DEFINE_WGMMA(__nv_bfloat16, "bf16")

#undef XRT_DEFINE_WGMMA
#undef XRT_DEFINE_WGMMA_RS
#undef XRT_DEFINE_WGMMA_SS
#undef XRT_WGMMA_REGS64
#undef XRT_WGMMA_REGS32
#undef XRT_WGMMA_ACC64
#undef XRT_WGMMA_ACC32

}  // namespace xrt::cuda::attn::sm90

#endif  // XRT_CUDA_ATTENTION_SM90_PTX_H_
