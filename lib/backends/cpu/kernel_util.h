// Shared plumbing for kernel entry points: error reporting, exception
// fencing and dispatch from a runtime dtype to a storage type.
#ifndef XRT_CPU_KERNEL_UTIL_H_
#define XRT_CPU_KERNEL_UTIL_H_

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>

#include "half.h"
#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cpu {

inline int64_t numel(const xrt_kernel_tensor_t& t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t.ndim; ++i) n *= t.shape[i];
  return n;
}

inline const char* op_name(const xrt_kernel_context_t* ctx) { return ctx->op ? ctx->op : "?"; }

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

// Runs body() and turns any exception into a status: kernels are called
// through a C ABI and must never throw.
template <class Body>
xrt_status_t guarded(const xrt_kernel_context_t* ctx, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(ctx, XRT_ERROR_OUT_OF_MEMORY, "cpu %s: out of memory", op_name(ctx));
  } catch (const std::exception& e) {
    return fail(ctx, XRT_ERROR_INTERNAL, "cpu %s: %s", op_name(ctx), e.what());
  } catch (...) {
    return fail(ctx, XRT_ERROR_INTERNAL, "cpu %s: unknown exception", op_name(ctx));
  }
}

template <class T>
struct TypeTag {
  using type = T;
};

// Calls fn(TypeTag<T>{}) with T the storage type of a floating dtype.
template <class Fn>
xrt_status_t dispatch_float(const xrt_kernel_context_t* ctx, xrt_dtype_t dtype, Fn&& fn) {
  switch (dtype) {
    case XRT_FLOAT32:
      return fn(TypeTag<float>{});
    case XRT_FLOAT64:
      return fn(TypeTag<double>{});
    case XRT_FLOAT16:
      return fn(TypeTag<float16_t>{});
    case XRT_BFLOAT16:
      return fn(TypeTag<bfloat16_t>{});
    default:
      return fail(ctx, XRT_ERROR_UNSUPPORTED, "cpu %s: unsupported dtype %d", op_name(ctx),
                  static_cast<int>(dtype));
  }
}

}  // namespace xrt::cpu

#endif  // XRT_CPU_KERNEL_UTIL_H_
