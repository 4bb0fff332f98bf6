// cuDNN's fused flash attention as a second implementation of the
// attention ops on CUDA devices (f16/bf16): "attention", "attention_lse",
// "attention_backward" with every mask input, and the packed
// "attention_varlen" family. The graphs are built with cudnn-frontend once
// per shape and thread; cuDNN itself is opened at run time
// (cudnn_library.h), and each feature runs where that cuDNN's frontend
// checks accept it.
#ifndef XRT_CUDA_CUDNN_CUDNN_ATTENTION_H_
#define XRT_CUDA_CUDNN_CUDNN_ATTENTION_H_

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {

// 1 when cuDNN is present and has an engine for this call; otherwise 0 with
// the reason in ctx->error.
int32_t cudnn_attention_supports(const xrt_kernel_context_t* ctx);
int32_t cudnn_attention_backward_supports(const xrt_kernel_context_t* ctx);

xrt_status_t run_cudnn_attention(const xrt_kernel_context_t* ctx);
// Runs cuDNN's forward once more for the output and its row statistics,
// then cuDNN's backward.
xrt_status_t run_cudnn_attention_backward(const xrt_kernel_context_t* ctx);

// attention_varlen, attention_varlen_lse and attention_varlen_backward. The
// run reads cu_seqlens on the host (one synchronization) to check them as
// the CPU kernel does and to place the sequences; supports() reads them
// too unless max_seqlen_q and max_seqlen_k size the padded problem.
int32_t cudnn_attention_varlen_supports(const xrt_kernel_context_t* ctx);
int32_t cudnn_attention_varlen_backward_supports(const xrt_kernel_context_t* ctx);
xrt_status_t run_cudnn_attention_varlen(const xrt_kernel_context_t* ctx);
xrt_status_t run_cudnn_attention_varlen_backward(const xrt_kernel_context_t* ctx);

}  // namespace xrt::cuda

#endif  // XRT_CUDA_CUDNN_CUDNN_ATTENTION_H_
