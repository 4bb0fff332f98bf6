// Row-major single-matrix products C = A * B used by the matmul kernel.
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

}  // namespace xrt::cpu

#endif  // XRT_CPU_GEMM_H_
