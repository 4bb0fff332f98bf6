// Small kernels around cuDNN's attention graphs: they turn our mask inputs
// into what cuDNN takes (an additive bias, per-batch sequence lengths) and
// give rows that see no key the CPU op's result (output zeros, lse -inf),
// which cuDNN's kernels do not promise.
#ifndef XRT_CUDA_CUDNN_CUDNN_MASKS_H_
#define XRT_CUDA_CUDNN_CUDNN_MASKS_H_

#include <cuda_runtime.h>

#include <cstdint>

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda::cudnn_masks {

// attn_mask as the kernels get it: (B, H, Lq, Lk) with stride 0 on
// broadcast axes; bool (0: masked) or a float dtype added to the scores.
struct MaskRef {
  const void* data = nullptr;
  xrt_dtype_t dtype = XRT_BOOL;
  int64_t strides[4] = {0, 0, 0, 0};
};

// Which keys query i of batch b sees, as the CPU kernels define it: keys
// [begin, end) of the first valid[b] (key_lengths, or Lk), the diagonal at
// key i + offset (bottom-right: valid[b] - Lq).
struct KeyRule {
  const int32_t* key_lengths = nullptr;  // (B,), nullptr: all Lk keys valid
  int64_t lk = 0;
  bool causal = false;
  bool bottom_right = false;
  int64_t window = -1;  // window_left, -1: none
};

// bias (nb, nh, lq, ld) in dtype (float16/bfloat16) from mask, where nb is
// 1 or B and nh 1 or H (the mask's broadcast), padded columns zero; bool
// becomes 0 / -inf, finite floats are clamped to dtype's finite range so
// that no finite mask value turns into -inf.
cudaError_t mask_to_bias(const MaskRef& mask, xrt_dtype_t dtype, int64_t nb, int64_t nh,
                         int64_t lq, int64_t lk, int64_t ld, void* bias, cudaStream_t stream);

// seq_q[b] = lq and seq_kv[b] = key_lengths[b] clamped to [0, lk] (lk
// without key_lengths).
cudaError_t sequence_lengths(const int32_t* key_lengths, int64_t batch, int64_t lq, int64_t lk,
                             int32_t* seq_q, int32_t* seq_kv, cudaStream_t stream);

// Rows (b, h, i) of a dense call that see no key (rule and mask, as the CPU
// op decides it): out row (dv elements at out_strides) set to zero and lse
// (packed (B, H, Lq), when not nullptr) to masked_lse.
cudaError_t fix_masked_rows(const KeyRule& rule, const MaskRef& mask, int64_t b, int64_t h,
                            int64_t lq, void* out, const int64_t out_strides[4], int64_t dv,
                            xrt_dtype_t dtype, float* lse, float masked_lse, cudaStream_t stream);

// dst[b, h, i] (packed) = lse at its strides, with -inf (a row that saw no
// key) made +inf so that cuDNN's backward gives that row's weights as
// exp(s - lse) = 0.
cudaError_t lse_for_backward(const float* lse, const int64_t strides[3], int64_t b, int64_t h,
                             int64_t lq, float* dst, cudaStream_t stream);

// Packed sequences (attention_varlen): q rows are (total_q, h, d), cu_q and
// cu_k the device copies of cu_seqlens (batch + 1 entries). For every (h,
// row t of sequence b, position s): when the row sees no key (its
// sequence's keys, causal/window as KeyRule with valid = that sequence's
// key count), out row zeroed and lse_out[h, t] = -inf; otherwise lse_out[h,
// t] = stats[b, h, s] (packed (B, h, max_q)). lse_out may be nullptr.
cudaError_t varlen_finish(const int32_t* cu_q, const int32_t* cu_k, int64_t batch, int64_t h,
                          int64_t total_q, int64_t max_q, bool causal, bool bottom_right,
                          int64_t window, void* out, int64_t dv, xrt_dtype_t dtype,
                          const float* stats, float* lse_out, cudaStream_t stream);

// stats[b, h, s] (packed (B, h, max_q)) = lse[h, t] for row t = cu_q[b] + s,
// -inf made +inf as lse_for_backward does.
cudaError_t varlen_stats(const int32_t* cu_q, int64_t batch, int64_t h, int64_t total_q,
                         int64_t max_q, const float* lse, float* stats, cudaStream_t stream);

}  // namespace xrt::cuda::cudnn_masks

#endif  // XRT_CUDA_CUDNN_CUDNN_MASKS_H_
