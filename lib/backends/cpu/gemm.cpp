#include "gemm.h"

#include <algorithm>
#include <climits>

#include "openblas.h"

namespace xrt::cpu {

#if XRT_HAVE_BLAS
namespace {

// run_matmul has checked that OpenBLAS loaded before any product runs.
void blas_call(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
               int ldc) {
  openblas()->sgemm(kCblasRowMajor, kCblasNoTrans, kCblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb,
                    0.0f, c, ldc);
}

void blas_call(int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c,
               int ldc) {
  openblas()->dgemm(kCblasRowMajor, kCblasNoTrans, kCblasNoTrans, m, n, k, 1.0, a, lda, b, ldb,
                    0.0, c, ldc);
}

// BLAS takes 32-bit sizes. Rows are split into chunks that fit; a column or
// inner size that does not fit goes to the blocked kernel.
template <class T>
void blas_gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
               T* c, int64_t ldc, bool parallel) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX) {
    gemm_blocked(m, n, k, a, lda, b, ldb, c, ldc, parallel);
    return;
  }
  for (int64_t i = 0; i < m; i += INT_MAX) {
    const int rows = static_cast<int>(std::min<int64_t>(INT_MAX, m - i));
    blas_call(rows, static_cast<int>(n), static_cast<int>(k), a + i * lda,
              static_cast<int>(std::max<int64_t>(lda, 1)), b,
              static_cast<int>(std::max<int64_t>(ldb, 1)), c + i * ldc,
              static_cast<int>(std::max<int64_t>(ldc, 1)));
  }
}

}  // namespace

void gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool parallel) {
  blas_gemm(m, n, k, a, lda, b, ldb, c, ldc, parallel);
}

void gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc, bool parallel) {
  blas_gemm(m, n, k, a, lda, b, ldb, c, ldc, parallel);
}

#else

void gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool parallel) {
  gemm_blocked(m, n, k, a, lda, b, ldb, c, ldc, parallel);
}

void gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc, bool parallel) {
  gemm_blocked(m, n, k, a, lda, b, ldb, c, ldc, parallel);
}

#endif

}  // namespace xrt::cpu
