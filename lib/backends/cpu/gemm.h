// Row-major single-matrix products C = A * B used by the matmul and
// attention kernels.
#ifndef XRT_CPU_GEMM_H_
#define XRT_CPU_GEMM_H_

#include <cstdint>

namespace xrt::cpu {

// C (m x n, row stride ldc) = A (m x k, row stride lda) * B (k x n, row
// stride ldb). Uses OpenBLAS when the build does, else the blocked kernel.
// `parallel` lets the call fan out to the thread pool.
void gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool parallel);
void gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc, bool parallel);

// The built-in blocked kernel, whatever the build.
void gemm_blocked(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                  int64_t ldb, float* c, int64_t ldc, bool parallel);
void gemm_blocked(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
                  const double* b, int64_t ldb, double* c, int64_t ldc, bool parallel);

// Products of operands already packed (gemm_pack.h): for kernels that reuse
// an operand over many products. C (m x n, row stride ldc) = or += A * B,
// with A packed in strips of gemm_strip_rows<T>() rows and B in strips of
// gemm_strip_cols<T>() columns, both over k. Runs on the calling thread.
template <class T>
int64_t gemm_strip_rows();
template <class T>
int64_t gemm_strip_cols();
void gemm_packed(int64_t m, int64_t n, int64_t k, const float* packed_a, const float* packed_b,
                 float* c, int64_t ldc, bool accumulate);
void gemm_packed(int64_t m, int64_t n, int64_t k, const double* packed_a,
                 const double* packed_b, double* c, int64_t ldc, bool accumulate);

// The same with A given as its m row pointers (k contiguous values each),
// for an A read once per product, where packing would cost more than it
// saves.
void gemm_rows(int64_t m, int64_t n, int64_t k, const float* const* a_rows,
               const float* packed_b, float* c, int64_t ldc, bool accumulate);
void gemm_rows(int64_t m, int64_t n, int64_t k, const double* const* a_rows,
               const double* packed_b, double* c, int64_t ldc, bool accumulate);

}  // namespace xrt::cpu

#endif  // XRT_CPU_GEMM_H_
