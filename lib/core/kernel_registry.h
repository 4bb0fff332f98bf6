// Kernels by op name; for each op the candidates are kept sorted by
// priority (highest first) so dispatch takes the first that accepts a call.
#pragma once

#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt {

struct Kernel {
  std::string op;
  std::string name;
  std::string backend;
  xrt_device_kind_t device_kind;
  uint32_t dtype_mask;
  int32_t priority;
  xrt_kernel_supports_fn supports;
  xrt_kernel_run_fn run;
  uint32_t flags;  // XRT_KERNEL_STRIDED
};

class KernelRegistry {
 public:
  void add(Kernel kernel);
  // First kernel for (op, device kind, dtype) whose supports() accepts ctx;
  // nullptr when none does.
  const Kernel* select(const char* op, xrt_device_kind_t kind, xrt_dtype_t dtype,
                       const xrt_kernel_context_t& ctx) const;
  // The kernel called name for (op, device kind, dtype), or nullptr; does
  // not ask its supports().
  const Kernel* find(const char* op, xrt_device_kind_t kind, xrt_dtype_t dtype,
                     const char* name) const;
  // "cpu.add (float32, float64)" for every kernel of op on that device kind,
  // for error messages.
  std::string describe(const char* op, xrt_device_kind_t kind) const;

 private:
  mutable std::shared_mutex mutex_;
  // Kernels are allocated once and never freed, so a pointer returned by
  // select() stays valid while other threads register more.
  std::unordered_map<std::string, std::vector<const Kernel*>> by_op_;
};

}  // namespace xrt
