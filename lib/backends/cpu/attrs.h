// Reading kernel attributes by name, with a default when absent.
#ifndef XRT_CPU_ATTRS_H_
#define XRT_CPU_ATTRS_H_

#include <cstring>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cpu {

inline const xrt_attr_t* find_attr(const xrt_kernel_context_t* ctx, const char* name) {
  for (size_t i = 0; i < ctx->num_attrs; ++i) {
    const xrt_attr_t& a = ctx->attrs[i];
    if (a.name && std::strcmp(a.name, name) == 0) return &a;
  }
  return nullptr;
}

inline int64_t attr_int(const xrt_kernel_context_t* ctx, const char* name, int64_t fallback) {
  const xrt_attr_t* a = find_attr(ctx, name);
  if (!a) return fallback;
  return a->type == XRT_ATTR_INT ? a->i : static_cast<int64_t>(a->f);
}

inline double attr_float(const xrt_kernel_context_t* ctx, const char* name, double fallback) {
  const xrt_attr_t* a = find_attr(ctx, name);
  if (!a) return fallback;
  return a->type == XRT_ATTR_FLOAT ? a->f : static_cast<double>(a->i);
}

}  // namespace xrt::cpu

#endif  // XRT_CPU_ATTRS_H_
