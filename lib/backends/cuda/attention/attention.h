// Flash attention on NVIDIA GPUs (sm_80 and newer): f16 and bf16, head_dim
// 64 or 128 for q, k and v alike. The sm_80 kernels also take head_dim 32
// and 96, k and v with fewer heads than q (grouped-query attention), every
// mask of the attention ops (Masks below) and packed sequences; the sm_90a
// kernels take grouped heads too.
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
// attention_varlen(_lse) and attention_varlen_backward on the sm_80 kernels.
xrt_status_t run_attention_varlen(const xrt_kernel_context_t* ctx);
xrt_status_t run_attention_varlen_backward(const xrt_kernel_context_t* ctx);
// The sm_90a backward (hopper_backward.cu), likewise.
int32_t attention_sm90_backward_supports(const xrt_kernel_context_t* ctx);
xrt_status_t run_attention_sm90_backward(const xrt_kernel_context_t* ctx);
// Decoding from a contiguous or paged KV cache (decode.cu, kv_cache_append.cu).
xrt_status_t run_attention_decode(const xrt_kernel_context_t* ctx);
xrt_status_t run_kv_cache_append(const xrt_kernel_context_t* ctx);

namespace attn {

constexpr float kLog2e = 1.4426950408889634f;

// attn_mask's element types as the kernels read them.
enum MaskDtype : int { kNoMask = 0, kMaskBool = 1, kMaskFloat32 = 2, kMaskHalves = 3 };

// The masks of one call beyond plain causal attention, passed to the sm_80
// kernels by value. Query i of batch entry b sees key j when
//   j < valid(b), and with causal j <= i + offset(b), and with a window
//   j >= i + offset(b) - window,
// where valid(b) = key_lengths[b] (clamped to [0, lk]) or lk, and offset(b)
// = valid(b) - lq when bottom_right, else 0 (the CPU kernels' rule); an
// attn_mask then hides (bool false) or adds to what is seen.
// masks_of() fills it from a call; heads must be set even without masks.
struct Masks {
  const int32_t* key_lengths;  // (B,) on the device, or nullptr
  const void* attn_mask;       // broadcast to (B, H, Lq, Lk), or nullptr
  int mask_dtype;              // MaskDtype; kMaskHalves: the dtype of q
  int64_t mask_strides[4];     // in elements, 0 on broadcast axes
  int heads;                   // q heads per batch entry
  int window;                  // -1: unlimited
  int bottom_right;
};

// Packed sequences (attention_varlen): sequence b's queries are rows
// cu_q[b] .. cu_q[b + 1] of q (total_q, H, d), its keys the same rows of
// cu_k in k and v (total_k, Hkv, d); lse and delta are (H, total_q).
// cu_q nullptr: the dense layout.
struct Packing {
  const int32_t* cu_q;  // (B + 1,) on the device
  const int32_t* cu_k;
  int64_t total_q, total_k;
};

// One forward pass over contiguous (bh, lq, d) q, (bh / group, lk, d) k and
// v, or packed sequences (bh = B * H, lq and lk their longest lengths).
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
  Masks masks;
  Packing packing;

  // Rows of q (and of the output, dO, dq), of k (v, dk, dv).
  int64_t q_rows() const { return packing.cu_q ? packing.total_q * masks.heads : bh * lq; }
  int64_t kv_rows() const {
    return packing.cu_q ? packing.total_k * (masks.heads / group) : bh / group * lk;
  }
};

// XRT_OK when inputs[0..count) start on 16-byte boundaries (the kernels'
// vector loads) and the current device has compute capability 8.0 or newer
// (cp.async, mma.sync bf16); otherwise Unsupported naming op and the cause.
xrt_status_t check_aligned_on_sm80(const xrt_kernel_context_t* ctx, const char* op,
                                   size_t count);

// XRT_OK when q, k, v (inputs[first..first+2]) fit these kernels and the
// current device can run them; otherwise the message is in ctx->error.
// handled: the MaskFeature bits (mask_support.h) the calling kernel runs;
// true means kGroupedHeads.
xrt_status_t check_supported(const xrt_kernel_context_t* ctx, size_t first,
                             unsigned handled = 0);

// The part of check_supported that does not depend on the layout: dtype,
// head dims (64 and 128, and 32 and 96 with more_head_dims), sizes (bh
// heads of lq queries and lk keys at most), the first `aligned` inputs on
// 16-byte boundaries, the device.
xrt_status_t check_fit(const xrt_kernel_context_t* ctx, xrt_dtype_t dtype, int64_t d, int64_t dv,
                       int64_t bh, int64_t lq, int64_t lk, size_t aligned, bool more_head_dims);

// bytes rounded up to whole 256-byte blocks, so that buffers carved out of
// one scratch allocation one after another stay aligned.
inline size_t scratch_bytes(size_t bytes) { return (bytes + 255) / 256 * 256; }

// Lets kernel use bytes of dynamic shared memory, or says that the current
// device has too little.
xrt_status_t allow_smem(const xrt_kernel_context_t* ctx, const void* kernel, size_t bytes);

// The masks of a dense call whose q is inputs[first] (0 forward, 1 backward).
Masks masks_of(const xrt_kernel_context_t* ctx, size_t first);
// Only the attributes' part (window_left, causal_align), for heads q heads
// of at most lq queries and lk keys.
Masks index_masks(const xrt_kernel_context_t* ctx, int64_t heads, int64_t lq, int64_t lk);

// The forward pass that ctx (attention or attention_lse) asks for.
ForwardArgs forward_args(const xrt_kernel_context_t* ctx);

// The shapes and attributes of an attention_backward call (q is inputs[1]).
ForwardArgs backward_args(const xrt_kernel_context_t* ctx);

// The sm_80 backward of fa (dO inputs[0], dq, dk, dv outputs[0..2]); the
// forward's output and lse at inputs[out_index], [out_index + 1] when given.
xrt_status_t launch_backward(const xrt_kernel_context_t* ctx, const ForwardArgs& fa,
                             size_t out_index);

// dk and dv of a call without queries: empty sums, zero.
xrt_status_t zero_key_grads(const xrt_kernel_context_t* ctx, const ForwardArgs& args);

// dq of a call without keys: no score depends on q, zero.
xrt_status_t zero_query_grads(const xrt_kernel_context_t* ctx);

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
