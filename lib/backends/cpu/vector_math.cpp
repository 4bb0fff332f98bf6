#include "vector_math.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "cpu_isa.h"

namespace xrt::cpu {
namespace {

template <bool FMA>
XRT_ALWAYS_INLINE float madd(float a, float b, float c) {
  if constexpr (FMA) {
    return std::fma(a, b, c);
  } else {
    return a * b + c;
  }
}

// exp(v) as 2^k * exp(r), k = round(v / ln 2), |r| <= ln 2 / 2, with
// exp(r) from its Taylor series to degree 7 (truncation below 6e-9).
template <bool FMA>
XRT_ALWAYS_INLINE float exp_poly(float v) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;  // ln 2 = hi + lo, hi exact in few bits
  constexpr float kLn2Lo = 1.42860682030941723e-6f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  constexpr uint32_t kRoundBits = 0x4b400000u;
  constexpr float kFloor = -87.0f;  // exp(-87) ~ 1.6e-38, just above FLT_MIN
  constexpr float kCeiling = 88.0f;  // exp(88) ~ 1.7e38, just below FLT_MAX
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
  // t's low bits hold k; -126 <= k <= 127 here, so 2^k is a normal float.
  uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  const uint32_t scale_bits = (bits - kRoundBits + 127u) << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  const float e = p * scale;
  return tiny ? 0.0f : huge ? std::numeric_limits<float>::infinity() : e;
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

using RowMaxFn = float (*)(const float*, int64_t);
using RowExpFn = float (*)(const float*, float*, int64_t, float);
using MaxFn = void (*)(const float*, int64_t, int64_t, float*);
using ExpFn = void (*)(float*, int64_t, int64_t, const float*, float*);

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
  RowMaxFn row_max;
  RowExpFn row_exp;
  MaxFn max;
  ExpFn exp;
};

Kernels select() {
  switch (cpu_isa()) {
#if XRT_X86_DISPATCH
    case Isa::kAvx512:
      return {row_max_avx512, row_exp_avx512, max_avx512, exp_avx512};
    case Isa::kAvx2:
      return {row_max_avx2, row_exp_avx2, max_avx2, exp_avx2};
#endif
    default:
      return {row_max_generic, row_exp_generic, max_generic, exp_generic};
  }
}

const Kernels& kernels() {
  static const Kernels k = select();
  return k;
}

}  // namespace

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
