// Softmax, gelu and layer_norm primitives, vectorised. Softmax: along a
// row, and down the columns of a rows x width block (row-major,
// contiguous), one column per softmax (per query in attention). The float
// versions run the AVX-512 or AVX2 build of their loop where the CPU has
// it (cpu_isa.h); float exp is a polynomial within 2 ulp of std::exp, and
// double uses std::exp, as the float64 reference path should.
#ifndef XRT_CPU_VECTOR_MATH_H_
#define XRT_CPU_VECTOR_MATH_H_

#include <cstdint>

namespace xrt::cpu {

// The largest of x[0, n), -inf for n == 0; NaN is ignored.
float row_max(const float* x, int64_t n);
double row_max(const double* x, int64_t n);

// y[j] = exp(x[j] - shift) for j < n (y may be x); returns their sum.
// Float results saturate as exp_shifted_columns's.
float exp_shifted_row(const float* x, float* y, int64_t n, float shift);
double exp_shifted_row(const double* x, double* y, int64_t n, double shift);

// max[c] = max(max[c], x[r][c]) over the rows; NaN is ignored.
void max_columns(const float* x, int64_t rows, int64_t width, float* max);
void max_columns(const double* x, int64_t rows, int64_t width, double* max);

// x[r][c] = exp(x[r][c] - shift[c]) and sum[c] += x[r][c]. In float,
// results above exp(88) become inf.
void exp_shifted_columns(float* x, int64_t rows, int64_t width, const float* shift, float* sum);
void exp_shifted_columns(double* x, int64_t rows, int64_t width, const double* shift,
                         double* sum);

// Gelu's erf form, y = x * Phi(x), and its derivative, y = Phi(x) + x phi(x),
// with Phi and phi the standard normal CDF and density (y may be x). Phi
// comes from erfc, so it keeps its relative accuracy far into the negative
// tail, where 1 + erf cancels; float is within about 1e-6 of the exact
// value relative to it.
void gelu(const float* x, float* y, int64_t n);
void gelu(const double* x, double* y, int64_t n);
void gelu_derivative(const float* x, float* y, int64_t n);
void gelu_derivative(const double* x, double* y, int64_t n);

// layer_norm's row statistics, accumulated in double whatever the input:
// the sum of x, then the sums of d = x - mean and of d^2.
double row_sum(const float* x, int64_t n);
double row_sum(const double* x, int64_t n);
void centred_sums(const float* x, int64_t n, double mean, double* sum, double* sum_squares);
void centred_sums(const double* x, int64_t n, double mean, double* sum, double* sum_squares);

// y = (x - mean) * rstd, centred in double, then * w and + b where given
// (either may be null).
void normalize_row(const float* x, int64_t n, double mean, double rstd, const float* w,
                   const float* b, float* y);
void normalize_row(const double* x, int64_t n, double mean, double rstd, const double* w,
                   const double* b, double* y);

}  // namespace xrt::cpu

#endif  // XRT_CPU_VECTOR_MATH_H_
