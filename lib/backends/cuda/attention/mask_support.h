// What the GPU attention kernels cannot do yet among the attention ops'
// masks and grouped heads, named, so that they decline such a call rather
// than ignore an input (the CPU kernels run them all).
#ifndef XRT_CUDA_ATTENTION_MASK_SUPPORT_H_
#define XRT_CUDA_ATTENTION_MASK_SUPPORT_H_

#include <string>

#include "xpuruntime/xpuruntime_plugin.h"
#include "backends/common/kernel_context.h"

namespace xrt::cuda::attn {

// "" when q, k, v at inputs[first..first+2] and the mask inputs after them
// (attn_mask, key_lengths at first + 3, + 4 forward; 6, 7 backward) use
// nothing outside plain (or top-left causal) attention, with equal heads
// unless grouped_heads (k and v's heads a divisor of q's, which the schema
// checked).
inline std::string unsupported_features(const xrt_kernel_context_t* ctx, size_t first,
                                        bool grouped_heads) {
  const xrt_kernel_tensor_t& q = ctx->inputs[first];
  const xrt_kernel_tensor_t& k = ctx->inputs[first + 1];
  if (!grouped_heads && q.shape[1] != k.shape[1]) {
    return "grouped-query attention (q has " + std::to_string(q.shape[1]) + " heads, k and v " +
           std::to_string(k.shape[1]) + ")";
  }
  const size_t mask = first == 0 ? 3 : 6;
  if (ctx->num_inputs > mask && ctx->inputs[mask].data) return "attn_mask";
  if (ctx->num_inputs > mask + 1 && ctx->inputs[mask + 1].data) return "key_lengths";
  if (kernel::attr_int(ctx, "window_left", -1) >= 0) return "window_left";
  if (kernel::attr_int(ctx, "causal", 0) != 0 && kernel::attr_int(ctx, "causal_align", 0) == 1 &&
      q.shape[2] != k.shape[2]) {
    return "causal_align bottom_right with Lq != Lk";
  }
  return "";
}

}  // namespace xrt::cuda::attn

#endif  // XRT_CUDA_ATTENTION_MASK_SUPPORT_H_
