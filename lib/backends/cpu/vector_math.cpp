#include "vector_math.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "cpu_isa.h"

namespace xrt::cpu {
namespace {

// exp(v) as 2^k * exp(r), k = round(v / ln 2), |r| <= ln 2 / 2, with
// exp(r) from its Taylor series to degree 7 (truncation below 6e-9).
template <bool FMA>
XRT_ALWAYS_INLINE float exp_poly(float v) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;  // ln 2 = hi + lo, hi exact in few bits
  constexpr float kLn2Lo = 1.42860682030941723e-6f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  constexpr uint32_t kRoundBits = 0x4b400000u;
  constexpr float kFloor = -104.0f;  // exp(-104) ~ 6.8e-46, under the least subnormal
  constexpr float kCeiling = 88.0f;   // exp(88) ~ 1.7e38, just below FLT_MAX
  // Both false for NaN, which stays NaN.
  const bool tiny = v < kFloor, huge = v > kCeiling;
  const float y = tiny ? kFloor : huge ? kCeiling : v;
  const float t = madd<FMA>(y, kLog2e, kRound);
  const float k = t - kRound;
  const float r = madd<FMA>(-k, kLn2Lo, madd<FMA>(-k, kLn2Hi, y));
  float p = 1.0f / 5040.0f;
  p = madd<FMA>(p, r, 1.0f / 720.0f);
  p = madd<FMA>(p, r, 1.0f / 120.0f);
  p = madd<FMA>(p, r, 1.0f / 24.0f);
  p = madd<FMA>(p, r, 1.0f / 6.0f);
  p = madd<FMA>(p, r, 0.5f);
  p = madd<FMA>(p, r, 1.0f);
  p = madd<FMA>(p, r, 1.0f);
  // t's low bits hold k, -150 <= k <= 127 here; 2^k is applied as two
  // normal halves so results among the subnormals come out right too.
  int32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  const int32_t k_int = bits - static_cast<int32_t>(kRoundBits);
  const int32_t k1 = k_int / 2, k2 = k_int - k1;
  const uint32_t half1_bits = static_cast<uint32_t>(k1 + 127) << 23;
  const uint32_t half2_bits = static_cast<uint32_t>(k2 + 127) << 23;
  float half1, half2;
  std::memcpy(&half1, &half1_bits, sizeof half1);
  std::memcpy(&half2, &half2_bits, sizeof half2);
  // Out-of-range results by a factor, so nothing but constants is selected.
  const float factor = tiny ? 0.0f : huge ? std::numeric_limits<float>::infinity() : 1.0f;
  return p * half1 * half2 * factor;
}

// Phi(x) and exp(-x^2 / 2). For z = |x| / sqrt(2), erfc(z) = t Q(t)
// exp(-z^2) with t = 1 / (1 + z / 2) and Q a degree-10 polynomial fitted to
// relative error 3.4e-9 over z in [0, 10] (erfc is under float's range
// beyond). x^2 is split exactly in two so exp(-x^2 / 2) keeps its relative
// accuracy at large |x|.
struct NormalTail {
  float cdf, gauss;
};

template <bool FMA>
XRT_ALWAYS_INLINE NormalTail normal_tail(float x) {
  constexpr float kQ[] = {0.0353761576f, -0.188710347f, 0.375368387f, -0.280512214f,
                          -0.0306303725f, 0.0408973396f, 0.0525475405f, 0.186247543f,
                          0.245064035f,  0.282263935f,  0.282088012f};
  constexpr float kInvSqrt2 = 0.707106781186547524f;
  const float a = std::fabs(x);
  const float t = 1.0f / madd<FMA>(0.5f * kInvSqrt2, a, 1.0f);
  float q = kQ[0];
#pragma GCC unroll 16
  for (size_t i = 1; i < sizeof kQ / sizeof kQ[0]; ++i) q = madd<FMA>(q, t, kQ[i]);
  // Beyond 20, exp(-x^2 / 2) is 0 in float; the cap keeps the split finite
  // (and lets NaN through).
  const float capped = a > 20.0f ? 20.0f : a;
  float gauss;
  if constexpr (FMA) {
    // x^2 = square + rest exactly; rest is within half an ulp of square, so
    // exp(-rest / 2) is 1 - rest / 2 to float precision.
    const float square = capped * capped;
    const float rest = std::fma(capped, capped, -square);
    gauss = exp_poly<FMA>(-0.5f * square) * std::fma(-0.5f, rest, 1.0f);
  } else {
    // Veltkamp: hi keeps 12 bits, so hi^2 is exact; the rest is not small.
    const float big = capped * 4097.0f;
    const float hi = big - (big - capped);
    const float lo = capped - hi;
    gauss = exp_poly<FMA>(-0.5f * (hi * hi)) * exp_poly<FMA>(-0.5f * (2.0f * hi + lo) * lo);
  }
  const float half_erfc = 0.5f * t * q * gauss;
  // half_erfc below 0, 1 - half_erfc above.
  const bool below = x < 0.0f;
  return {madd<FMA>(below ? 1.0f : -1.0f, half_erfc, below ? 0.0f : 1.0f), gauss};
}

template <bool FMA>
XRT_ALWAYS_INLINE void gelu_body(const float* x, float* y, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] = x[j] * normal_tail<FMA>(x[j]).cdf;
}

template <bool FMA>
XRT_ALWAYS_INLINE void gelu_derivative_body(const float* x, float* y, int64_t n) {
  constexpr float kInvSqrt2Pi = 0.398942280401432678f;
  for (int64_t j = 0; j < n; ++j) {
    const NormalTail p = normal_tail<FMA>(x[j]);
    y[j] = madd<FMA>(x[j] * kInvSqrt2Pi, p.gauss, p.cdf);
  }
}

template <class T>
XRT_ALWAYS_INLINE void max_body(const T* x, int64_t rows, int64_t width, T* max) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    for (int64_t c = 0; c < width; ++c) max[c] = max[c] < xr[c] ? xr[c] : max[c];
  }
}

template <bool FMA>
XRT_ALWAYS_INLINE void exp_body(float* x, int64_t rows, int64_t width, const float* shift,
                                float* sum) {
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * width;
    for (int64_t c = 0; c < width; ++c) {
      xr[c] = exp_poly<FMA>(xr[c] - shift[c]);
      sum[c] += xr[c];
    }
  }
}

// Row reductions keep kLanes independent partial results, so the compiler
// vectorises what it may not reorder on its own.
constexpr int kLanes = 16;

template <class T>
XRT_ALWAYS_INLINE T row_max_body(const T* x, int64_t n) {
  T part[kLanes];
  for (int l = 0; l < kLanes; ++l) part[l] = -std::numeric_limits<T>::infinity();
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) part[l] = part[l] < x[j + l] ? x[j + l] : part[l];
  }
  for (; j < n; ++j) part[0] = part[0] < x[j] ? x[j] : part[0];
  T m = part[0];
  for (int l = 1; l < kLanes; ++l) m = m < part[l] ? part[l] : m;
  return m;
}

template <bool FMA>
XRT_ALWAYS_INLINE float exp_row_body(const float* x, float* y, int64_t n, float shift) {
  float part[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      y[j + l] = exp_poly<FMA>(x[j + l] - shift);
      part[l] += y[j + l];
    }
  }
  for (; j < n; ++j) {
    y[j] = exp_poly<FMA>(x[j] - shift);
    part[0] += y[j];
  }
  float sum = 0;
  for (int l = 0; l < kLanes; ++l) sum += part[l];
  return sum;
}

// Double partial sums, as many as one AVX-512 register holds.
constexpr int kDoubleLanes = 8;

template <class T>
XRT_ALWAYS_INLINE double sum_body(const T* x, int64_t n) {
  double part[kDoubleLanes] = {};
  int64_t j = 0;
  for (; j + kDoubleLanes <= n; j += kDoubleLanes) {
    for (int l = 0; l < kDoubleLanes; ++l) part[l] += static_cast<double>(x[j + l]);
  }
  for (; j < n; ++j) part[0] += static_cast<double>(x[j]);
  double sum = 0;
  for (int l = 0; l < kDoubleLanes; ++l) sum += part[l];
  return sum;
}

template <class T>
XRT_ALWAYS_INLINE void centred_body(const T* x, int64_t n, double mean, double* sum,
                                    double* sum_squares) {
  double part[kDoubleLanes] = {}, squares[kDoubleLanes] = {};
  int64_t j = 0;
  for (; j + kDoubleLanes <= n; j += kDoubleLanes) {
    for (int l = 0; l < kDoubleLanes; ++l) {
      const double d = static_cast<double>(x[j + l]) - mean;
      part[l] += d;
      squares[l] += d * d;
    }
  }
  for (; j < n; ++j) {
    const double d = static_cast<double>(x[j]) - mean;
    part[0] += d;
    squares[0] += d * d;
  }
  *sum = *sum_squares = 0;
  for (int l = 0; l < kDoubleLanes; ++l) {
    *sum += part[l];
    *sum_squares += squares[l];
  }
}

template <class T>
XRT_ALWAYS_INLINE void normalize_body(const T* x, int64_t n, double mean, double rstd,
                                      const T* w, const T* b, T* y) {
  for (int64_t j = 0; j < n; ++j) {
    T v = static_cast<T>((static_cast<double>(x[j]) - mean) * rstd);
    if (w) v *= w[j];
    if (b) v += b[j];
    y[j] = v;
  }
}

using SumFn = double (*)(const float*, int64_t);
using CentredFn = void (*)(const float*, int64_t, double, double*, double*);
using NormalizeFn = void (*)(const float*, int64_t, double, double, const float*, const float*,
                             float*);
using GeluFn = void (*)(const float*, float*, int64_t);
using RowMaxFn = float (*)(const float*, int64_t);
using RowExpFn = float (*)(const float*, float*, int64_t, float);
using MaxFn = void (*)(const float*, int64_t, int64_t, float*);
using ExpFn = void (*)(float*, int64_t, int64_t, const float*, float*);

double sum_generic(const float* x, int64_t n) { return sum_body(x, n); }
void centred_generic(const float* x, int64_t n, double mean, double* sum, double* squares) {
  centred_body(x, n, mean, sum, squares);
}
void normalize_generic(const float* x, int64_t n, double mean, double rstd, const float* w,
                       const float* b, float* y) {
  normalize_body(x, n, mean, rstd, w, b, y);
}
void gelu_generic(const float* x, float* y, int64_t n) { gelu_body<kBaselineFma>(x, y, n); }
void gelu_derivative_generic(const float* x, float* y, int64_t n) {
  gelu_derivative_body<kBaselineFma>(x, y, n);
}
float row_max_generic(const float* x, int64_t n) { return row_max_body(x, n); }
float row_exp_generic(const float* x, float* y, int64_t n, float shift) {
  return exp_row_body<kBaselineFma>(x, y, n, shift);
}

void max_generic(const float* x, int64_t rows, int64_t width, float* max) {
  max_body(x, rows, width, max);
}
void exp_generic(float* x, int64_t rows, int64_t width, const float* shift, float* sum) {
  exp_body<kBaselineFma>(x, rows, width, shift, sum);
}

#if XRT_X86_DISPATCH
__attribute__((target("avx2,fma"))) double sum_avx2(const float* x, int64_t n) {
  return sum_body(x, n);
}
__attribute__((target("avx2,fma"))) void centred_avx2(const float* x, int64_t n, double mean,
                                                      double* sum, double* squares) {
  centred_body(x, n, mean, sum, squares);
}
__attribute__((target("avx2,fma"))) void normalize_avx2(const float* x, int64_t n, double mean,
                                                        double rstd, const float* w,
                                                        const float* b, float* y) {
  normalize_body(x, n, mean, rstd, w, b, y);
}
__attribute__((target("avx512f,fma"))) double sum_avx512(const float* x, int64_t n) {
  return sum_body(x, n);
}
__attribute__((target("avx512f,fma"))) void centred_avx512(const float* x, int64_t n,
                                                           double mean, double* sum,
                                                           double* squares) {
  centred_body(x, n, mean, sum, squares);
}
__attribute__((target("avx512f,fma"))) void normalize_avx512(const float* x, int64_t n,
                                                             double mean, double rstd,
                                                             const float* w, const float* b,
                                                             float* y) {
  normalize_body(x, n, mean, rstd, w, b, y);
}
__attribute__((target("avx2,fma"))) void gelu_avx2(const float* x, float* y, int64_t n) {
  gelu_body<true>(x, y, n);
}
__attribute__((target("avx2,fma"))) void gelu_derivative_avx2(const float* x, float* y,
                                                              int64_t n) {
  gelu_derivative_body<true>(x, y, n);
}
__attribute__((target("avx512f,fma"))) void gelu_avx512(const float* x, float* y, int64_t n) {
  gelu_body<true>(x, y, n);
}
__attribute__((target("avx512f,fma"))) void gelu_derivative_avx512(const float* x, float* y,
                                                                   int64_t n) {
  gelu_derivative_body<true>(x, y, n);
}
__attribute__((target("avx2,fma"))) float row_max_avx2(const float* x, int64_t n) {
  return row_max_body(x, n);
}
__attribute__((target("avx2,fma"))) float row_exp_avx2(const float* x, float* y, int64_t n,
                                                       float shift) {
  return exp_row_body<true>(x, y, n, shift);
}
__attribute__((target("avx512f,fma"))) float row_max_avx512(const float* x, int64_t n) {
  return row_max_body(x, n);
}
__attribute__((target("avx512f,fma"))) float row_exp_avx512(const float* x, float* y, int64_t n,
                                                            float shift) {
  return exp_row_body<true>(x, y, n, shift);
}
__attribute__((target("avx2,fma"))) void max_avx2(const float* x, int64_t rows, int64_t width,
                                                  float* max) {
  max_body(x, rows, width, max);
}
__attribute__((target("avx2,fma"))) void exp_avx2(float* x, int64_t rows, int64_t width,
                                                  const float* shift, float* sum) {
  exp_body<true>(x, rows, width, shift, sum);
}
__attribute__((target("avx512f,fma"))) void max_avx512(const float* x, int64_t rows,
                                                       int64_t width, float* max) {
  max_body(x, rows, width, max);
}
__attribute__((target("avx512f,fma"))) void exp_avx512(float* x, int64_t rows, int64_t width,
                                                       const float* shift, float* sum) {
  exp_body<true>(x, rows, width, shift, sum);
}
#endif

struct Kernels {
  SumFn sum;
  CentredFn centred;
  NormalizeFn normalize;
  GeluFn gelu, gelu_derivative;
  RowMaxFn row_max;
  RowExpFn row_exp;
  MaxFn max;
  ExpFn exp;
};

Kernels select() {
  switch (cpu_isa()) {
#if XRT_X86_DISPATCH
    case Isa::kAvx512:
      return {sum_avx512, centred_avx512, normalize_avx512, gelu_avx512,
              gelu_derivative_avx512, row_max_avx512, row_exp_avx512, max_avx512,
              exp_avx512};
    case Isa::kAvx2:
      return {sum_avx2, centred_avx2, normalize_avx2, gelu_avx2,
              gelu_derivative_avx2, row_max_avx2, row_exp_avx2, max_avx2,
              exp_avx2};
#endif
    default:
      return {sum_generic, centred_generic, normalize_generic, gelu_generic,
              gelu_derivative_generic, row_max_generic, row_exp_generic, max_generic,
              exp_generic};
  }
}

const Kernels& kernels() {
  static const Kernels k = select();
  return k;
}

}  // namespace

double row_sum(const float* x, int64_t n) { return kernels().sum(x, n); }

double row_sum(const double* x, int64_t n) { return sum_body(x, n); }

void centred_sums(const float* x, int64_t n, double mean, double* sum, double* sum_squares) {
  kernels().centred(x, n, mean, sum, sum_squares);
}

void centred_sums(const double* x, int64_t n, double mean, double* sum, double* sum_squares) {
  centred_body(x, n, mean, sum, sum_squares);
}

void normalize_row(const float* x, int64_t n, double mean, double rstd, const float* w,
                   const float* b, float* y) {
  kernels().normalize(x, n, mean, rstd, w, b, y);
}

void normalize_row(const double* x, int64_t n, double mean, double rstd, const double* w,
                   const double* b, double* y) {
  normalize_body(x, n, mean, rstd, w, b, y);
}

void gelu(const float* x, float* y, int64_t n) { kernels().gelu(x, y, n); }

void gelu(const double* x, double* y, int64_t n) {
  constexpr double kInvSqrt2 = 0.70710678118654752440;
  for (int64_t j = 0; j < n; ++j) y[j] = 0.5 * x[j] * std::erfc(-x[j] * kInvSqrt2);
}

void gelu_derivative(const float* x, float* y, int64_t n) { kernels().gelu_derivative(x, y, n); }

void gelu_derivative(const double* x, double* y, int64_t n) {
  constexpr double kInvSqrt2 = 0.70710678118654752440;
  constexpr double kInvSqrt2Pi = 0.39894228040143267794;
  for (int64_t j = 0; j < n; ++j) {
    const double v = x[j];
    y[j] = 0.5 * std::erfc(-v * kInvSqrt2) + v * kInvSqrt2Pi * std::exp(-0.5 * v * v);
  }
}

float row_max(const float* x, int64_t n) { return kernels().row_max(x, n); }

double row_max(const double* x, int64_t n) { return row_max_body(x, n); }

float exp_shifted_row(const float* x, float* y, int64_t n, float shift) {
  return kernels().row_exp(x, y, n, shift);
}

double exp_shifted_row(const double* x, double* y, int64_t n, double shift) {
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    y[j] = std::exp(x[j] - shift);
    sum += y[j];
  }
  return sum;
}

void max_columns(const float* x, int64_t rows, int64_t width, float* max) {
  kernels().max(x, rows, width, max);
}

void max_columns(const double* x, int64_t rows, int64_t width, double* max) {
  max_body(x, rows, width, max);
}

void exp_shifted_columns(float* x, int64_t rows, int64_t width, const float* shift, float* sum) {
  kernels().exp(x, rows, width, shift, sum);
}

void exp_shifted_columns(double* x, int64_t rows, int64_t width, const double* shift,
                         double* sum) {
  for (int64_t r = 0; r < rows; ++r) {
    double* xr = x + r * width;
    for (int64_t c = 0; c < width; ++c) {
      xr[c] = std::exp(xr[c] - shift[c]);
      sum[c] += xr[c];
    }
  }
}

}  // namespace xrt::cpu
