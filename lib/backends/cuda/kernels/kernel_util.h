// Host-side plumbing shared by the kernel entry points: error messages,
// attributes, sizes, dtype dispatch and grid sizing.
#ifndef XRT_CUDA_KERNELS_KERNEL_UTIL_H_
#define XRT_CUDA_KERNELS_KERNEL_UTIL_H_

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {

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

inline cudaStream_t stream_of(const xrt_kernel_context_t* ctx) {
  return static_cast<cudaStream_t>(ctx->stream);
}

inline int64_t numel(const xrt_kernel_tensor_t& t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t.ndim; ++i) n *= t.shape[i];
  return n;
}

// Data of optional input i, or nullptr when it is absent.
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

inline const char* dtype_name(xrt_dtype_t dtype) {
  switch (dtype) {
    case XRT_BOOL: return "bool";
    case XRT_UINT8: return "uint8";
    case XRT_INT8: return "int8";
    case XRT_INT16: return "int16";
    case XRT_INT32: return "int32";
    case XRT_INT64: return "int64";
    case XRT_FLOAT16: return "float16";
    case XRT_BFLOAT16: return "bfloat16";
    case XRT_FLOAT32: return "float32";
    case XRT_FLOAT64: return "float64";
    default: return "unknown";
  }
}

template <class T>
struct TypeTag {
  using type = T;
};

// Calls fn(TypeTag<T>{}) for float32, float16 and bfloat16 (and float64 when
// kWithF64); any other dtype is reported as unsupported.
template <bool kWithF64, class Fn>
xrt_status_t dispatch_float(const xrt_kernel_context_t* ctx, xrt_dtype_t dtype, Fn&& fn) {
  switch (dtype) {
    case XRT_FLOAT32: return fn(TypeTag<float>{});
    case XRT_FLOAT16: return fn(TypeTag<__half>{});
    case XRT_BFLOAT16: return fn(TypeTag<__nv_bfloat16>{});
    case XRT_FLOAT64:
      if constexpr (kWithF64) return fn(TypeTag<double>{});
      break;
    default: break;
  }
  return fail(ctx, XRT_ERROR_UNSUPPORTED, "cuda %s: dtype %s is not supported", op_name(ctx),
              dtype_name(dtype));
}

// Multiprocessor count of the current device, looked up once per device.
inline int sm_count() {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> cache[kMaxDevices];
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0) return 1;
  if (dev < kMaxDevices) {
    const int cached = cache[dev].load(std::memory_order_relaxed);
    if (cached > 0) return cached;
  }
  int count = 0;
  if (cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess ||
      count <= 0) {
    count = 1;
  }
  if (dev < kMaxDevices) cache[dev].store(count, std::memory_order_relaxed);
  return count;
}

// Blocks for a grid-stride loop over `work` items: enough to fill every SM
// a few times, no more.
inline unsigned grid_for(int64_t work, int threads) {
  const int64_t needed = (work + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(sm_count()) * (2048 / threads) * 2;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(needed, cap)));
}

}  // namespace xrt::cuda

#endif  // XRT_CUDA_KERNELS_KERNEL_UTIL_H_
