// What every kernel entry point reads from its xrt_kernel_context_t, the
// same way for every backend: the error message, attributes by name,
// optional operands, element counts and dtype names. Header-only, so the
// built-in CPU backend and the plugins share it without linking anything.
#ifndef XRT_BACKENDS_COMMON_KERNEL_CONTEXT_H_
#define XRT_BACKENDS_COMMON_KERNEL_CONTEXT_H_

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "dtype_table.h"
#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::kernel {

inline const char* op_name(const xrt_kernel_context_t* ctx) { return ctx->op ? ctx->op : "?"; }

// Writes the message for the runtime and returns status.
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
inline xrt_status_t
fail(const xrt_kernel_context_t* ctx, xrt_status_t status, const char* fmt, ...) {
  if (ctx->error && ctx->error_capacity > 0) {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(ctx->error, ctx->error_capacity, fmt, args);
    va_end(args);
  }
  return status;
}

inline int64_t numel(const xrt_kernel_tensor_t& t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t.ndim; ++i) n *= t.shape[i];
  return n;
}

// Data of optional operand i, or nullptr when it is absent.
inline const void* optional_input(const xrt_kernel_context_t* ctx, size_t i) {
  return i < ctx->num_inputs ? ctx->inputs[i].data : nullptr;
}

inline void* optional_output(const xrt_kernel_context_t* ctx, size_t i) {
  return i < ctx->num_outputs ? ctx->outputs[i].data : nullptr;
}

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

inline const char* dtype_name(xrt_dtype_t dtype) { return dtypes::name_of(dtype); }

}  // namespace xrt::kernel

#endif  // XRT_BACKENDS_COMMON_KERNEL_CONTEXT_H_
