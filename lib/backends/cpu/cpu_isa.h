// Which vector instruction set the running CPU offers. The library targets
// the baseline ISA; hot loops are also compiled for AVX2 and AVX-512 (with
// __attribute__((target))) and picked with this at run time.
#ifndef XRT_CPU_CPU_ISA_H_
#define XRT_CPU_CPU_ISA_H_

#if defined(__GNUC__) && defined(__x86_64__)
#define XRT_X86_DISPATCH 1
#endif

namespace xrt::cpu {

enum class Isa { kGeneric, kAvx2, kAvx512 };

// Detected once, on first use.
Isa cpu_isa();

}  // namespace xrt::cpu

#endif  // XRT_CPU_CPU_ISA_H_
