#include "cpu_isa.h"

#include <cstdlib>
#include <cstring>

namespace xrt::cpu {
namespace {

Isa detect() {
#if XRT_X86_DISPATCH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kGeneric;
}

// XRT_CPU_ISA=generic or avx2 caps the choice (to compare or test the
// builds a CPU would not pick); any other value leaves it to detection.
Isa chosen() {
  const Isa found = detect();
  const char* cap = std::getenv("XRT_CPU_ISA");
  if (!cap) return found;
  if (std::strcmp(cap, "generic") == 0) return Isa::kGeneric;
  if (std::strcmp(cap, "avx2") == 0 && found == Isa::kAvx512) return Isa::kAvx2;
  return found;
}

}  // namespace

Isa cpu_isa() {
  static const Isa isa = chosen();
  return isa;
}

}  // namespace xrt::cpu
