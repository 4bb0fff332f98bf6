// "attention_varlen", "attention_varlen_lse", "attention_varlen_backward" on
// the sm_80 flash kernels: q (total_q, H, D), k and v (total_k, Hkv, D). The
// grid covers the longest sequence's tiles for every (sequence, head);
// blocks past their sequence's end return at once (head_span.h).
//
// cu_seqlens are checked on a host copy first, as the CPU kernels check
// them: a bad entry would send the kernels outside the tensors. That costs
// one device-to-host copy (a stream synchronization) per call.
#include <algorithm>
#include <cmath>
#include <vector>

#include "attention/attention.h"
#include "backends/common/cu_seqlens.h"
#include "kernels/kernel_util.h"
#include "kernels/launch_check.h"

namespace xrt::cuda {
namespace {

// The packed call whose q, k, v, cu_seqlens_q, cu_seqlens_k are inputs
// [first..first+4]; aligned: how many inputs the kernels read in 16-byte words.
xrt_status_t varlen_args(const xrt_kernel_context_t* ctx, size_t first, size_t aligned,
                         attn::ForwardArgs* a) {
  const xrt_kernel_tensor_t& q = ctx->inputs[first];
  const xrt_kernel_tensor_t& k = ctx->inputs[first + 1];
  const xrt_kernel_tensor_t& v = ctx->inputs[first + 2];
  const xrt_kernel_tensor_t& cu_q = ctx->inputs[first + 3];
  const xrt_kernel_tensor_t& cu_k = ctx->inputs[first + 4];
  const int64_t n = cu_q.shape[0];
  std::vector<int32_t> host(static_cast<size_t>(2 * n));
  cudaStream_t stream = stream_of(ctx);
  const size_t bytes = static_cast<size_t>(n) * sizeof(int32_t);
  if (cudaMemcpyAsync(host.data(), cu_q.data, bytes, cudaMemcpyDeviceToHost, stream) !=
          cudaSuccess ||
      cudaMemcpyAsync(host.data() + n, cu_k.data, bytes, cudaMemcpyDeviceToHost, stream) !=
          cudaSuccess ||
      cudaStreamSynchronize(stream) != cudaSuccess) {
    return check_launch(ctx);
  }
  int64_t longest_q = 0, longest_k = 0;
  xrt_status_t status =
      kernel::check_cu_seqlens(ctx, host.data(), n, "cu_seqlens_q", q.shape[0],
                               attr_int(ctx, "max_seqlen_q", -1), &longest_q);
  if (status == XRT_OK) {
    status = kernel::check_cu_seqlens(ctx, host.data() + n, n, "cu_seqlens_k", k.shape[0],
                                      attr_int(ctx, "max_seqlen_k", -1), &longest_k);
  }
  const int64_t heads = q.shape[1];
  if (status == XRT_OK) {
    status = attn::check_fit(ctx, q.dtype, q.shape[2], v.shape[2], (n - 1) * heads, longest_q,
                             longest_k, aligned, true);
  }
  if (status != XRT_OK) return status;
  *a = attn::ForwardArgs{};
  a->q = q.data;
  a->k = k.data;
  a->v = v.data;
  a->bh = (n - 1) * heads;
  a->group = heads / k.shape[1];
  a->lq = longest_q;
  a->lk = longest_k;
  a->d = static_cast<int>(q.shape[2]);
  a->scale = static_cast<float>(attr_float(ctx, "scale", 1.0 / std::sqrt(double(a->d))));
  a->causal = attr_int(ctx, "causal", 0) != 0;
  a->dtype = q.dtype;
  a->masks = attn::index_masks(ctx, heads, longest_q, longest_k);
  a->packing = {static_cast<const int32_t*>(cu_q.data), static_cast<const int32_t*>(cu_k.data),
                q.shape[0], k.shape[0]};
  return XRT_OK;
}

}  // namespace

xrt_status_t run_attention_varlen(const xrt_kernel_context_t* ctx) {
  attn::ForwardArgs a;
  const xrt_status_t status = varlen_args(ctx, 0, 3, &a);
  if (status != XRT_OK) return status;
  a.out = ctx->outputs[0].data;
  // attention_varlen_lse: the log-sum-exp of every query too, (H, total_q).
  a.lse = ctx->num_outputs > 1 ? static_cast<float*>(ctx->outputs[1].data) : nullptr;
  return attn::launch_forward(ctx, a, stream_of(ctx));
}

// Inputs grad, q, k, v, cu_seqlens_q, cu_seqlens_k[, output, lse].
xrt_status_t run_attention_varlen_backward(const xrt_kernel_context_t* ctx) {
  attn::ForwardArgs a;
  const xrt_status_t status = varlen_args(ctx, 1, ctx->num_inputs, &a);
  if (status != XRT_OK) return status;
  if (a.bh == 0) return XRT_OK;
  if (a.lq == 0) return attn::zero_key_grads(ctx, a);
  if (a.lk == 0) {  // no keys: every query's weights are empty, dq is 0
    const size_t bytes = static_cast<size_t>(a.q_rows() * a.d) * 2;
    if (cudaMemsetAsync(ctx->outputs[0].data, 0, bytes, stream_of(ctx)) != cudaSuccess) {
      return check_launch(ctx);
    }
    return XRT_OK;
  }
  return attn::launch_backward(ctx, a, 6);
}

}  // namespace xrt::cuda
