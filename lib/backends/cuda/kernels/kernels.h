// Entry points of the CUDA kernels. Each run function launches on ctx->stream
// (a cudaStream_t; NULL is the legacy default stream) on the current device
// and never synchronizes.
#ifndef XRT_CUDA_KERNELS_KERNELS_H_
#define XRT_CUDA_KERNELS_KERNELS_H_

#include <cuda_runtime.h>

#include <cstddef>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {

xrt_status_t run_add(const xrt_kernel_context_t* ctx);
xrt_status_t run_gelu(const xrt_kernel_context_t* ctx);
xrt_status_t run_bias_gelu(const xrt_kernel_context_t* ctx);
xrt_status_t run_bias_gelu_backward(const xrt_kernel_context_t* ctx);
xrt_status_t run_softmax(const xrt_kernel_context_t* ctx);
xrt_status_t run_layer_norm(const xrt_kernel_context_t* ctx);
xrt_status_t run_rms_norm(const xrt_kernel_context_t* ctx);
xrt_status_t run_add_layer_norm(const xrt_kernel_context_t* ctx);
xrt_status_t run_add_rms_norm(const xrt_kernel_context_t* ctx);
// Also the add_ ops' backward: their extra input is added to dx when present.
xrt_status_t run_layer_norm_backward(const xrt_kernel_context_t* ctx);
xrt_status_t run_rms_norm_backward(const xrt_kernel_context_t* ctx);

// dst = src for two views of one shape and dtype on the same device; strides
// in elements, either side may be non-contiguous.
xrt_status_t copy_strided(const xrt_kernel_tensor_t* dst, const xrt_kernel_tensor_t* src,
                          cudaStream_t stream, char* error, size_t capacity);

}  // namespace xrt::cuda

#endif  // XRT_CUDA_KERNELS_KERNELS_H_
