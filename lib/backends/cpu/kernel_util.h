// Plumbing of the CPU kernel entry points: the shared context readers
// (backends/common/kernel_context.h), exception fencing and dispatch from a
// runtime dtype to a storage type.
#ifndef XRT_CPU_KERNEL_UTIL_H_
#define XRT_CPU_KERNEL_UTIL_H_

#include <cstdint>
#include <exception>
#include <new>

#include "backends/common/kernel_context.h"
#include "half.h"
#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cpu {

using kernel::attr_float;
using kernel::attr_int;
using kernel::dtype_name;
using kernel::fail;
using kernel::numel;
using kernel::op_name;

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
      return fail(ctx, XRT_ERROR_UNSUPPORTED, "cpu %s: dtype %s is not supported", op_name(ctx),
                  dtype_name(dtype));
  }
}

}  // namespace xrt::cpu

#endif  // XRT_CPU_KERNEL_UTIL_H_
