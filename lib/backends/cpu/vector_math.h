// Column primitives of the softmax in the attention kernels, vectorised
// across columns: x is rows x width, row-major and contiguous, one column
// per query. The float versions run the AVX-512 or AVX2 build of their loop
// where the CPU has it (cpu_isa.h); float exp is a polynomial within 2 ulp
// of std::exp, and double uses std::exp, as the float64 reference path
// should.
#ifndef XRT_CPU_VECTOR_MATH_H_
#define XRT_CPU_VECTOR_MATH_H_

#include <cstdint>

namespace xrt::cpu {

// max[c] = max(max[c], x[r][c]) over the rows; NaN is ignored.
void max_columns(const float* x, int64_t rows, int64_t width, float* max);
void max_columns(const double* x, int64_t rows, int64_t width, double* max);

// x[r][c] = exp(x[r][c] - shift[c]) and sum[c] += x[r][c]. In float,
// results below exp(-87) (under FLT_MIN) are flushed to 0 and those above
// exp(88) become inf.
void exp_shifted_columns(float* x, int64_t rows, int64_t width, const float* shift, float* sum);
void exp_shifted_columns(double* x, int64_t rows, int64_t width, const double* shift,
                         double* sum);

}  // namespace xrt::cpu

#endif  // XRT_CPU_VECTOR_MATH_H_
