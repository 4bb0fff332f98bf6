// "attention_varlen", "attention_varlen_lse", "attention_varlen_backward":
// attention over packed sequences, q (total_q, H, D) and k, v (total_k,
// Hkv, D), sequence b at rows cu_seqlens[b] .. cu_seqlens[b + 1]. Each
// (sequence, head) becomes one head of the shared CPU cores.
#include <cmath>
#include <vector>

#include "attention_head.h"
#include "backends/common/cu_seqlens.h"
#include "kernels.h"
#include "kernel_util.h"

namespace xrt::cpu {
namespace {

// cu_seqlens (inputs[index]) as backends/common/cu_seqlens.h checks it.
xrt_status_t check_cu_seqlens(const xrt_kernel_context_t* ctx, size_t index, const char* name,
                              int64_t total, int64_t max_len) {
  const xrt_kernel_tensor_t& t = ctx->inputs[index];
  int64_t longest = 0;
  return kernel::check_cu_seqlens(ctx, static_cast<const int32_t*>(t.data), t.shape[0], name,
                                  total, max_len, &longest);
}

// Inputs from `first`: q, k, v, cu_seqlens_q, cu_seqlens_k.
xrt_status_t check_varlen(const xrt_kernel_context_t* ctx, size_t first) {
  xrt_status_t s = check_cu_seqlens(ctx, first + 3, "cu_seqlens_q", ctx->inputs[first].shape[0],
                                    attr_int(ctx, "max_seqlen_q", -1));
  if (s == XRT_OK) {
    s = check_cu_seqlens(ctx, first + 4, "cu_seqlens_k", ctx->inputs[first + 1].shape[0],
                         attr_int(ctx, "max_seqlen_k", -1));
  }
  return s;
}

struct Packed {
  int64_t batch, h, hk, d, dv, total_q;
  const int32_t* cu_q;
  const int32_t* cu_k;
};

Packed packed(const xrt_kernel_context_t* ctx, size_t first) {
  const xrt_kernel_tensor_t& q = ctx->inputs[first];
  const xrt_kernel_tensor_t& k = ctx->inputs[first + 1];
  return {ctx->inputs[first + 3].shape[0] - 1, q.shape[1], k.shape[1], q.shape[2],
          ctx->inputs[first + 2].shape[2], q.shape[0],
          static_cast<const int32_t*>(ctx->inputs[first + 3].data),
          static_cast<const int32_t*>(ctx->inputs[first + 4].data)};
}

// Head (b, hq) of the packed call; out and lse as the forward writes them.
template <class T>
HeadOperands<T> packed_head(const xrt_kernel_context_t* ctx, size_t first, const Packed& p,
                            const MaskAttrs& attrs, int64_t b, int64_t hq, T* out, float* lse) {
  const int64_t q0 = p.cu_q[b], k0 = p.cu_k[b];
  const int64_t lq = p.cu_q[b + 1] - q0, lk = p.cu_k[b + 1] - k0;
  const int64_t kv = hq / (p.h / p.hk);
  return {static_cast<const T*>(ctx->inputs[first].data) + (q0 * p.h + hq) * p.d,
          static_cast<const T*>(ctx->inputs[first + 1].data) + (k0 * p.hk + kv) * p.d,
          static_cast<const T*>(ctx->inputs[first + 2].data) + (k0 * p.hk + kv) * p.dv,
          p.h * p.d, p.hk * p.d, p.hk * p.dv, lq, lk,
          key_range(attrs, lq, lk), MaskView{},
          out, 0, lse ? lse + hq * p.total_q + q0 : nullptr};
}

template <class T>
void varlen_forward(const xrt_kernel_context_t* ctx) {
  const Packed p = packed(ctx, 0);
  const MaskAttrs attrs = mask_attrs(ctx);
  T* out = static_cast<T*>(ctx->outputs[0].data);
  float* lse = ctx->num_outputs > 1 ? static_cast<float*>(ctx->outputs[1].data) : nullptr;
  std::vector<HeadOperands<T>> heads;
  heads.reserve(static_cast<size_t>(p.batch * p.h));
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t hq = 0; hq < p.h; ++hq) {
      HeadOperands<T> head = packed_head<T>(ctx, 0, p, attrs, b, hq, nullptr, lse);
      head.out = out + (p.cu_q[b] * p.h + hq) * p.dv;
      head.out_stride = p.h * p.dv;
      heads.push_back(head);
    }
  }
  forward_heads(heads, p.d, p.dv, attr_float(ctx, "scale", 1.0 / std::sqrt(double(p.d))));
}

// Inputs grad, q, k, v, cu_seqlens_q, cu_seqlens_k[, output, lse].
template <class T>
void varlen_backward(const xrt_kernel_context_t* ctx) {
  const Packed p = packed(ctx, 1);
  const MaskAttrs attrs = mask_attrs(ctx);
  const T* grad = static_cast<const T*>(ctx->inputs[0].data);
  const T* given_out = static_cast<const T*>(ctx->inputs[6].data);
  const float* given_lse = static_cast<const float*>(ctx->inputs[7].data);
  T* dq = static_cast<T*>(ctx->outputs[0].data);
  T* dk = static_cast<T*>(ctx->outputs[1].data);
  T* dv = static_cast<T*>(ctx->outputs[2].data);
  const int64_t group = p.h / p.hk;
  std::vector<HeadOperands<T>> heads;
  std::vector<KeyGradTarget<T>> targets;
  heads.reserve(static_cast<size_t>(p.batch * p.h));
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t hq = 0; hq < p.h; ++hq) {
      HeadOperands<T> head = packed_head<T>(ctx, 1, p, attrs, b, hq, nullptr, nullptr);
      const int64_t row = p.cu_q[b] * p.h + hq;
      head.out = dq + row * p.d;
      head.out_stride = p.h * p.d;
      head.grad = grad + row * p.dv;
      head.given_out = given_out ? given_out + row * p.dv : nullptr;
      head.given_lse = given_lse ? given_lse + hq * p.total_q + p.cu_q[b] : nullptr;
      head.grad_stride = p.h * p.dv;
      heads.push_back(head);
    }
    for (int64_t kv = 0; kv < p.hk; ++kv) {
      const int64_t row = p.cu_k[b] * p.hk + kv;
      targets.push_back({dk + row * p.d, dv + row * p.dv, p.hk * p.d, p.hk * p.dv,
                         b * p.h + kv * group, group});
    }
  }
  backward_heads(heads, targets, p.d, p.dv,
                 attr_float(ctx, "scale", 1.0 / std::sqrt(double(p.d))));
}

}  // namespace

xrt_status_t run_attention_varlen(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    const xrt_status_t bad = check_varlen(ctx, 0);
    if (bad != XRT_OK) return bad;
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      varlen_forward<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

xrt_status_t run_attention_varlen_backward(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    const xrt_status_t bad = check_varlen(ctx, 1);
    if (bad != XRT_OK) return bad;
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      varlen_backward<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
