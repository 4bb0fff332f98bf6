// OpenBLAS for the matmul kernel, opened with dlopen on first use rather
// than linked, so the library needs nothing outside its wheel to load (the
// manylinux policy); the scipy-openblas32 wheel, a dependency, provides it.
// Where: the file XRT_OPENBLAS_LIB names (`import xpuruntime` points it at
// the scipy-openblas32 wheel unless it is set), else libscipy_openblas.so
// through the loader's search, which takes this library's runpath: the
// scipy-openblas32 wheel beside an installed xpuruntime, or the one found
// when a C-only build tree was configured.
#ifndef XRT_CPU_OPENBLAS_H_
#define XRT_CPU_OPENBLAS_H_

namespace xrt::cpu {

enum : int { kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112 };

struct Openblas {
  void (*sgemm)(int order, int transa, int transb, int m, int n, int k, float alpha,
                const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);
  void (*dgemm)(int order, int transa, int transb, int m, int n, int k, double alpha,
                const double* a, int lda, const double* b, int ldb, double beta, double* c,
                int ldc);
};

// The entry points, loaded once for the life of the process; nullptr if
// OpenBLAS cannot be loaded, with *why (when given) saying what to install
// and where it looked.
const Openblas* openblas(const char** why = nullptr);

}  // namespace xrt::cpu

#endif  // XRT_CPU_OPENBLAS_H_
