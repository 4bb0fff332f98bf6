// Which of the attention ops' masks and grouped heads a GPU attention
// kernel runs, named, so that a kernel declines a call it cannot run
// rather than ignore an input (the CPU kernels run them all).
#ifndef XRT_CUDA_ATTENTION_MASK_SUPPORT_H_
#define XRT_CUDA_ATTENTION_MASK_SUPPORT_H_

#include <string>

#include "xpuruntime/xpuruntime_plugin.h"
#include "backends/common/kernel_context.h"

namespace xrt::cuda::attn {

// Bits of what a kernel runs beyond plain (or top-left causal) attention
// with head_dim 64 or 128.
enum MaskFeature : unsigned {
  kGroupedHeads = 1u,  // k and v with fewer heads than q (a divisor, as the schema checks)
  kAttnMask = 2u,
  kKeyLengths = 4u,
  kWindowLeft = 8u,
  kBottomRight = 16u,  // causal_align bottom_right with Lq != Lk
  kHeadDims32And96 = 32u,  // checked by check_fit (attention.h), not here
  // What the sm_80 flash kernels (flash_forward.cu, flash_backward.cu) run.
  kSm80Features =
      kGroupedHeads | kAttnMask | kKeyLengths | kWindowLeft | kBottomRight | kHeadDims32And96,
};

// "" when q, k, v at inputs[first..first+2] and the mask inputs after them
// (attn_mask, key_lengths at first + 3, + 4 forward; 6, 7 backward) use
// nothing outside `handled`; else the first feature missing, by name.
inline std::string unsupported_features(const xrt_kernel_context_t* ctx, size_t first,
                                        unsigned handled) {
  const xrt_kernel_tensor_t& q = ctx->inputs[first];
  const xrt_kernel_tensor_t& k = ctx->inputs[first + 1];
  if (!(handled & kGroupedHeads) && q.shape[1] != k.shape[1]) {
    return "grouped-query attention (q has " + std::to_string(q.shape[1]) + " heads, k and v " +
           std::to_string(k.shape[1]) + ")";
  }
  const size_t mask = first == 0 ? 3 : 6;
  if (!(handled & kAttnMask) && ctx->num_inputs > mask && ctx->inputs[mask].data) {
    return "attn_mask";
  }
  if (!(handled & kKeyLengths) && ctx->num_inputs > mask + 1 && ctx->inputs[mask + 1].data) {
    return "key_lengths";
  }
  if (!(handled & kWindowLeft) && kernel::attr_int(ctx, "window_left", -1) >= 0) {
    return "window_left";
  }
  if (!(handled & kBottomRight) && kernel::attr_int(ctx, "causal", 0) != 0 &&
      kernel::attr_int(ctx, "causal_align", 0) == 1 && q.shape[2] != k.shape[2]) {
    return "causal_align bottom_right with Lq != Lk";
  }
  return "";
}

}  // namespace xrt::cuda::attn

#endif  // XRT_CUDA_ATTENTION_MASK_SUPPORT_H_
