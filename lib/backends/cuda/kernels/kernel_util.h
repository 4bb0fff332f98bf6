// Host-side plumbing of the CUDA kernel entry points: the shared context
// readers (backends/common/kernel_context.h), dtype dispatch and grid sizing.
#ifndef XRT_CUDA_KERNELS_KERNEL_UTIL_H_
#define XRT_CUDA_KERNELS_KERNEL_UTIL_H_

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "backends/common/kernel_context.h"
#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {

using kernel::attr_float;
using kernel::attr_int;
using kernel::dtype_name;
using kernel::fail;
using kernel::numel;
using kernel::op_name;
using kernel::optional_input;
using kernel::optional_output;

inline cudaStream_t stream_of(const xrt_kernel_context_t* ctx) {
  return static_cast<cudaStream_t>(ctx->stream);
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

// Blocks of `threads` threads of `kernel` that fit on one SM of the current
// device, or -1 when CUDA cannot say. Looked up once per (device, kernel,
// block size): the occupancy query would otherwise run on every call.
template <class Kernel>
int blocks_per_sm(Kernel kernel, int threads) {
  struct Entry {
    int device;
    const void* kernel;
    int threads;
    int blocks;
  };
  static std::mutex mutex;
  static std::vector<Entry> cache;
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return -1;
  const void* key = reinterpret_cast<const void*>(kernel);
  std::lock_guard<std::mutex> lock(mutex);
  for (const Entry& e : cache) {
    if (e.device == dev && e.kernel == key && e.threads == threads) return e.blocks;
  }
  int blocks = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, threads, 0) != cudaSuccess) {
    return -1;
  }
  cache.push_back({dev, key, threads, blocks});
  return blocks;
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
