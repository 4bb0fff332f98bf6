// "matmul" on CUDA devices through cuBLASLt (f32, f16, bf16).
#pragma once

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {

// a (..., M, K) @ b (..., K, N) with numpy batch broadcasting, enqueued on
// ctx->stream on the current device; never synchronizes. The int attribute
// "allow_tf32" (absent: 0) lets f32 products round their inputs to TF32.
xrt_status_t matmul(const xrt_kernel_context_t* ctx);

}  // namespace xrt::cuda
