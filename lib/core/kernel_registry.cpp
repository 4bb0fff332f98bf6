#include "kernel_registry.h"

#include <algorithm>
#include <mutex>

#include "device.h"
#include "dtype.h"

namespace xrt {

void KernelRegistry::add(Kernel kernel) {
  // Kernels are never removed (plugins are never unloaded), so the object
  // is intentionally kept for the life of the process.
  const Kernel* stored = new Kernel(std::move(kernel));
  std::unique_lock<std::shared_mutex> lock(mutex_);
  auto& list = by_op_[stored->op];
  // stable: among equal priorities the earlier registration wins.
  auto pos = std::upper_bound(list.begin(), list.end(), stored,
                              [](const Kernel* a, const Kernel* b) { return a->priority > b->priority; });
  list.insert(pos, stored);
}

const Kernel* KernelRegistry::select(const char* op, xrt_device_kind_t kind, xrt_dtype_t dtype,
                                     const xrt_kernel_context_t& ctx) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = by_op_.find(op);
  if (it == by_op_.end()) return nullptr;
  const uint32_t bit = XRT_DTYPE_BIT(dtype);
  for (const Kernel* k : it->second) {
    if (k->device_kind != kind || !(k->dtype_mask & bit)) continue;
    if (k->supports && !k->supports(&ctx)) continue;
    return k;
  }
  return nullptr;
}

const Kernel* KernelRegistry::find(const char* op, xrt_device_kind_t kind, xrt_dtype_t dtype,
                                   const char* name) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = by_op_.find(op);
  if (it == by_op_.end()) return nullptr;
  for (const Kernel* k : it->second) {
    if (k->device_kind == kind && (k->dtype_mask & XRT_DTYPE_BIT(dtype)) && k->name == name)
      return k;
  }
  return nullptr;
}

std::string KernelRegistry::describe(const char* op, xrt_device_kind_t kind) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = by_op_.find(op);
  std::string out;
  if (it == by_op_.end()) return "none";
  for (const Kernel* k : it->second) {
    if (k->device_kind != kind) continue;
    if (!out.empty()) out += "; ";
    out += k->name + " (";
    bool first = true;
    for (int d = 0; d < XRT_DTYPE_COUNT; ++d) {
      if (!(k->dtype_mask & XRT_DTYPE_BIT(d))) continue;
      if (!first) out += ", ";
      out += dtype_name(static_cast<xrt_dtype_t>(d));
      first = false;
    }
    out += ")";
  }
  return out.empty() ? "none" : out;
}

}  // namespace xrt
