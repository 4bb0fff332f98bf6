// float16 / bfloat16 storage types, their conversions to and from float, and
// the typed load/store used to write each kernel once for every dtype.
#ifndef XRT_CPU_HALF_H_
#define XRT_CPU_HALF_H_

#include <cstdint>
#include <cstring>

namespace xrt::cpu {

struct float16_t {
  uint16_t bits;
};
struct bfloat16_t {
  uint16_t bits;
};

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) {
    // Inf, or NaN made quiet as hardware conversions do.
    return bits_float(sign | 0x7f800000u | (mant ? 0x400000u | (mant << 13) : 0));
  }
  if (exp == 0) {
    // Subnormal (or zero): mant * 2^-24 is exact in float.
    const float mag = static_cast<float>(mant) * 0x1p-24f;
    return bits_float(sign | float_bits(mag));
  }
  return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

// Round to nearest, ties to even; overflow gives Inf, NaN stays NaN (quiet).
inline uint16_t float_to_half(float f) {
  uint32_t x = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) {
    if (x == 0x7f800000u) return sign | 0x7c00u;
    return static_cast<uint16_t>(sign | 0x7e00u | ((x >> 13) & 0x3ffu));
  }
  if (x >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to Inf
  if (x < 0x38800000u) {
    // Below the smallest normal half (2^-14): result is m * 2^-24.
    const uint32_t exp = x >> 23;
    if (exp < 102) return sign;  // below 2^-25: rounds to zero
    const uint32_t mant = (x & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 14..24
    uint32_t r = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  x -= 112u << 23;  // rebias the exponent from 127 to 15
  x += 0xfffu + ((x >> 13) & 1u);
  return static_cast<uint16_t>(sign | (x >> 13));
}

inline float bf16_to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }

inline uint16_t float_to_bf16(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// Elem<T>::Compute is the arithmetic type for storage type T; load/store move
// one element between the two.
template <class T>
struct Elem;

template <>
struct Elem<float> {
  using Compute = float;
  static float load(const float* p) { return *p; }
  static void store(float* p, float v) { *p = v; }
};

template <>
struct Elem<double> {
  using Compute = double;
  static double load(const double* p) { return *p; }
  static void store(double* p, double v) { *p = v; }
};

template <>
struct Elem<float16_t> {
  using Compute = float;
  static float load(const float16_t* p) { return half_to_float(p->bits); }
  static void store(float16_t* p, float v) { p->bits = float_to_half(v); }
};

template <>
struct Elem<bfloat16_t> {
  using Compute = float;
  static float load(const bfloat16_t* p) { return bf16_to_float(p->bits); }
  static void store(bfloat16_t* p, float v) { p->bits = float_to_bf16(v); }
};

template <class T>
using compute_t = typename Elem<T>::Compute;

template <class T>
inline compute_t<T> load(const T* p) {
  return Elem<T>::load(p);
}

template <class T>
inline void store(T* p, compute_t<T> v) {
  Elem<T>::store(p, v);
}

}  // namespace xrt::cpu

#endif  // XRT_CPU_HALF_H_
