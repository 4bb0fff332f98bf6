// Turns a failed kernel launch into a status and a message.
#ifndef XRT_CUDA_KERNELS_LAUNCH_CHECK_H_
#define XRT_CUDA_KERNELS_LAUNCH_CHECK_H_

#include <cuda_runtime.h>

#include <cstdio>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {

// Read right after the launch so a bad configuration is reported by the op
// that caused it.
inline xrt_status_t check_launch(const char* op, char* error, size_t capacity) {
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return XRT_OK;
  if (error && capacity > 0) {
    std::snprintf(error, capacity, "%s: %s: %s", op, cudaGetErrorName(err),
                  cudaGetErrorString(err));
  }
  return XRT_ERROR_BACKEND;
}

inline xrt_status_t check_launch(const xrt_kernel_context_t* ctx) {
  return check_launch(ctx->op ? ctx->op : "?", ctx->error, ctx->error_capacity);
}

}  // namespace xrt::cuda

#endif  // XRT_CUDA_KERNELS_LAUNCH_CHECK_H_
