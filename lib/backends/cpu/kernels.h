// Entry points of the CPU kernels (xrt_kernel_run_fn); the registration
// table lives in cpu_backend.cpp.
#ifndef XRT_CPU_KERNELS_H_
#define XRT_CPU_KERNELS_H_

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cpu {

xrt_status_t run_matmul(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_add(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_gelu(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_softmax(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_layer_norm(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_rms_norm(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_add_layer_norm(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_add_rms_norm(const xrt_kernel_context_t* ctx) noexcept;
// Also the add_ ops' backward: their extra input is read when present.
xrt_status_t run_layer_norm_backward(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_rms_norm_backward(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_bias_gelu(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_bias_gelu_backward(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_attention(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_attention_backward(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_attention_varlen(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_attention_varlen_backward(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_attention_decode(const xrt_kernel_context_t* ctx) noexcept;
xrt_status_t run_kv_cache_append(const xrt_kernel_context_t* ctx) noexcept;

}  // namespace xrt::cpu

#endif  // XRT_CPU_KERNELS_H_
