// The two CBLAS entry points the matmul kernel uses, declared here rather
// than taken from a vendor header. XRT_BLAS_PREFIX is pasted in front of the
// names (scipy-openblas exports scipy_cblas_sgemm; system OpenBLAS has none).
#ifndef XRT_CPU_BLAS_H_
#define XRT_CPU_BLAS_H_

#if XRT_HAVE_BLAS

#ifndef XRT_BLAS_PREFIX
#define XRT_BLAS_PREFIX
#endif

#define XRT_BLAS_CAT_(a, b) a##b
#define XRT_BLAS_CAT(a, b) XRT_BLAS_CAT_(a, b)
#define XRT_BLAS_NAME(name) XRT_BLAS_CAT(XRT_BLAS_PREFIX, name)

enum : int { kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112 };

extern "C" {
void XRT_BLAS_NAME(cblas_sgemm)(int order, int transa, int transb, int m, int n, int k,
                                float alpha, const float* a, int lda, const float* b, int ldb,
                                float beta, float* c, int ldc);
void XRT_BLAS_NAME(cblas_dgemm)(int order, int transa, int transb, int m, int n, int k,
                                double alpha, const double* a, int lda, const double* b, int ldb,
                                double beta, double* c, int ldc);
}

#endif  // XRT_HAVE_BLAS

#endif  // XRT_CPU_BLAS_H_
