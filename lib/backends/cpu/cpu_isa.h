// Which vector instruction set the running CPU offers. The library targets
// the baseline ISA; hot loops are also compiled for AVX2 and AVX-512 (with
// __attribute__((target))) and picked with this at run time.
#ifndef XRT_CPU_CPU_ISA_H_
#define XRT_CPU_CPU_ISA_H_

#include <cmath>

#if defined(__GNUC__) && defined(__x86_64__)
#define XRT_X86_DISPATCH 1
#endif

// For the shared body of each ISA's build: inlined into every one of them.
#if defined(__GNUC__)
#define XRT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define XRT_ALWAYS_INLINE inline
#endif

namespace xrt::cpu {

enum class Isa { kGeneric, kAvx2, kAvx512 };

// Whether the baseline build has fused multiply-add (else std::fma would be
// a library call there).
#if defined(__FP_FAST_FMAF) && defined(__FP_FAST_FMA)
inline constexpr bool kBaselineFma = true;
#else
inline constexpr bool kBaselineFma = false;
#endif

// a * b + c, fused where the build has FMA.
template <bool FMA, class T>
XRT_ALWAYS_INLINE T madd(T a, T b, T c) {
  if constexpr (FMA) {
    return std::fma(a, b, c);
  } else {
    return a * b + c;
  }
}

// Detected once, on first use; the environment variable XRT_CPU_ISA
// (generic, avx2) caps it.
Isa cpu_isa();

}  // namespace xrt::cpu

#endif  // XRT_CPU_CPU_ISA_H_
