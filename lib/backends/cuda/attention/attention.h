// Flash attention on NVIDIA GPUs (sm_80 and newer): f16 and bf16, head_dim
// 64 or 128 for q, k and v alike; the sm_80 and sm_90a forwards also read k
// and v with fewer heads than q (grouped-query attention).
#ifndef XRT_CUDA_ATTENTION_ATTENTION_H_
#define XRT_CUDA_ATTENTION_ATTENTION_H_

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {

xrt_status_t run_attention(const xrt_kernel_context_t* ctx);
// The sm_90a forward (hopper_forward.cu): supports() accepts a call only on a
// compute capability 9.0 device, in a plugin built with sm_90a code.
int32_t attention_sm90_supports(const xrt_kernel_context_t* ctx);
xrt_status_t run_attention_sm90(const xrt_kernel_context_t* ctx);
xrt_status_t run_attention_backward(const xrt_kernel_context_t* ctx);
// The sm_90a backward (hopper_backward.cu), likewise.
int32_t attention_sm90_backward_supports(const xrt_kernel_context_t* ctx);
xrt_status_t run_attention_sm90_backward(const xrt_kernel_context_t* ctx);

namespace attn {

constexpr float kLog2e = 1.4426950408889634f;

// One forward pass over contiguous (bh, lq, d) q, (bh, lk, d) k and v.
struct ForwardArgs {
  const void* q;
  const void* k;
  const void* v;
  void* out;        // (bh, lq, d), the dtype of q
  float* lse;       // (bh, lq) natural log-sum-exp of the scaled scores, or nullptr
  int64_t bh;
  int64_t group;  // q heads per k/v head: q head bh reads k/v head bh / group
  int64_t lq, lk;
  int d;
  float scale;
  bool causal;
  xrt_dtype_t dtype;
};

// XRT_OK when q, k, v (inputs[first..first+2]) fit these kernels and the
// current device can run them; otherwise the message is in ctx->error.
// grouped_heads: the kernel reads k and v with fewer heads than q.
xrt_status_t check_supported(const xrt_kernel_context_t* ctx, size_t first,
                             bool grouped_heads = false);

// bytes rounded up to whole 256-byte blocks, so that buffers carved out of
// one scratch allocation one after another stay aligned.
inline size_t scratch_bytes(size_t bytes) { return (bytes + 255) / 256 * 256; }

// Lets kernel use bytes of dynamic shared memory, or says that the current
// device has too little.
xrt_status_t allow_smem(const xrt_kernel_context_t* ctx, const void* kernel, size_t bytes);

// The forward pass that ctx (attention or attention_lse) asks for.
ForwardArgs forward_args(const xrt_kernel_context_t* ctx);

// The shapes and attributes of an attention_backward call (q is inputs[1]).
ForwardArgs backward_args(const xrt_kernel_context_t* ctx);

// dk and dv of a call without queries: empty sums, zero.
xrt_status_t zero_key_grads(const xrt_kernel_context_t* ctx, const ForwardArgs& args);

// Launches the forward kernel on stream; args must have passed
// check_supported.
xrt_status_t launch_forward(const xrt_kernel_context_t* ctx, const ForwardArgs& args,
                            cudaStream_t stream);

// The sm_90a forward on stream. schedule 0: S, softmax, P V one after the
// other (kept for comparison); 1: overlapped (the kernel's).
xrt_status_t launch_forward_sm90_schedule(const xrt_kernel_context_t* ctx, const ForwardArgs& a,
                                          cudaStream_t stream, int schedule);

}  // namespace attn
}  // namespace xrt::cuda

#endif  // XRT_CUDA_ATTENTION_ATTENTION_H_
