// attention_varlen (packed sequences) with its backward and autograd node,
// attention_decode (forward only) and kv_cache_append (writes the caches in
// place): the runtime kernels (CPU and CUDA) and what autograd sees of them.
#include <torch/csrc/autograd/VariableTypeUtils.h>

#include "operators.h"

namespace xrt_torch {
namespace {

XRT_TORCH_OPERATOR(attention_varlen_op, AttentionVarlenSig, "attention_varlen")
XRT_TORCH_OPERATOR(attention_varlen_backward_op, AttentionVarlenBackwardSig,
                   "attention_varlen_backward")
XRT_TORCH_OPERATOR(attention_decode_op, AttentionDecodeSig, "attention_decode")
XRT_TORCH_OPERATOR(kv_cache_append_op, KvCacheAppendSig, "kv_cache_append")

// ---- kernels ----------------------------------------------------------------------

// The attributes of both varlen ops. The scale's error names the runtime op
// (attention_varlen_lse or _backward), causal_align's the torch op, as the
// Python kernels' do.
void add_varlen_attrs(RuntimeCall& call, const char* torch_op, const char* runtime_op,
                      std::optional<int64_t> max_q, std::optional<int64_t> max_k, bool causal,
                      std::optional<double> scale, std::optional<int64_t> window_left,
                      c10::string_view causal_align) {
  const int64_t align = causal_align_number(torch_op, causal_align);
  call.attr("causal", int64_t{causal ? 1 : 0});
  call.attr("scale", checked_scale(runtime_op, scale));
  call.attr("window_left", window_left.value_or(-1));
  call.attr("causal_align", align);
  call.attr("max_seqlen_q", max_q.value_or(-1));
  call.attr("max_seqlen_k", max_k.value_or(-1));
}

Tensors2 attention_varlen_kernel(const Tensor& q, const Tensor& k, const Tensor& v,
                                 const Tensor& cu_q, const Tensor& cu_k,
                                 std::optional<int64_t> max_q, std::optional<int64_t> max_k,
                                 bool causal, std::optional<double> scale,
                                 std::optional<int64_t> window_left,
                                 c10::string_view causal_align) {
  RuntimeCall call("attention_varlen_lse");
  for (const Tensor* t : {&q, &k, &v, &cu_q, &cu_k}) call.input(*t);
  add_varlen_attrs(call, "attention_varlen", "attention_varlen_lse", max_q, max_k, causal, scale,
                   window_left, causal_align);
  auto out = call.run(2);
  return {out[0], out[1]};
}

Tensors3 attention_varlen_backward_kernel(const Tensor& grad, const Tensor& q, const Tensor& k,
                                          const Tensor& v, const Tensor& cu_q,
                                          const Tensor& cu_k, std::optional<int64_t> max_q,
                                          std::optional<int64_t> max_k, bool causal,
                                          std::optional<double> scale, const Tensor& output,
                                          const Tensor& lse, std::optional<int64_t> window_left,
                                          c10::string_view causal_align) {
  RuntimeCall call("attention_varlen_backward");
  for (const Tensor* t : {&grad, &q, &k, &v, &cu_q, &cu_k, &output, &lse}) call.input(*t);
  add_varlen_attrs(call, "attention_varlen_backward", "attention_varlen_backward", max_q, max_k,
                   causal, scale, window_left, causal_align);
  auto out = call.run(3);
  return {out[0], out[1], out[2]};
}

Tensor attention_decode_kernel(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                               const Tensor& cache_seqlens, const OptTensor& block_table,
                               std::optional<double> scale, bool causal,
                               std::optional<int64_t> window_left) {
  RuntimeCall call("attention_decode");
  for (const Tensor* t : {&q, &k_cache, &v_cache, &cache_seqlens}) call.input(*t);
  call.input(block_table);
  call.attr("causal", int64_t{causal ? 1 : 0});
  call.attr("scale", checked_scale("attention_decode", scale));
  call.attr("window_left", window_left.value_or(-1));
  return call.run(1)[0];
}

// The runtime writes the caches' memory, which crosses over without a copy.
Tensor kv_cache_append_kernel(Tensor& k_cache, Tensor& v_cache, const Tensor& k, const Tensor& v,
                              const Tensor& cache_seqlens, const OptTensor& block_table) {
  RuntimeCall call("kv_cache_append");
  for (const Tensor* t : std::initializer_list<const Tensor*>{&k_cache, &v_cache, &k, &v,
                                                              &cache_seqlens}) {
    call.input(*t);
  }
  call.input(block_table);
  return call.run(1)[0];
}

// ---- autograd ---------------------------------------------------------------------

// attention_varlen keeps its output and lse for the backward, as ops.py's
// node does; q, k and v get gradients.
struct AttentionVarlenFunction : torch::autograd::Function<AttentionVarlenFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& q, const Tensor& k,
                               const Tensor& v, const Tensor& cu_q, const Tensor& cu_k,
                               std::optional<int64_t> max_q, std::optional<int64_t> max_k,
                               bool causal, std::optional<double> scale,
                               std::optional<int64_t> window_left, std::string causal_align) {
    auto [out, lse] = call_below_autograd(attention_varlen_op(), q, k, v, cu_q, cu_k, max_q,
                                          max_k, causal, scale, window_left,
                                          c10::string_view(causal_align));
    ctx->mark_non_differentiable({lse});
    ctx->save_for_backward({q, k, v, cu_q, cu_k, out, lse});
    ctx->saved_data["max_q"] = max_q;
    ctx->saved_data["max_k"] = max_k;
    ctx->saved_data["causal"] = causal;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["window_left"] = window_left;
    ctx->saved_data["causal_align"] = causal_align;
    return {out, lse};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    auto& data = ctx->saved_data;
    auto [dq, dk, dv] = call_backward(
        attention_varlen_backward_op(), grads[0].contiguous(), s[0], s[1], s[2], s[3], s[4],
        data["max_q"].toOptional<int64_t>(), data["max_k"].toOptional<int64_t>(),
        data["causal"].toBool(), data["scale"].toOptional<double>(), s[5], s[6],
        data["window_left"].toOptional<int64_t>(),
        c10::string_view(data["causal_align"].toStringRef()));
    variable_list result(11);
    result[0] = dq;
    result[1] = dk;
    result[2] = dv;
    return result;
  }
};

Tensors2 attention_varlen_autograd(const Tensor& q, const Tensor& k, const Tensor& v,
                                   const Tensor& cu_q, const Tensor& cu_k,
                                   std::optional<int64_t> max_q, std::optional<int64_t> max_k,
                                   bool causal, std::optional<double> scale,
                                   std::optional<int64_t> window_left,
                                   c10::string_view causal_align) {
  const OptTensor tq(q), tk(k), tv(v);
  if (wants_grad("attention_varlen", {&tq, &tk, &tv})) {
    auto out = AttentionVarlenFunction::apply(q, k, v, cu_q, cu_k, max_q, max_k, causal, scale,
                                              window_left, std::string(causal_align));
    return {out[0], out[1]};
  }
  return call_below_autograd(attention_varlen_op(), q, k, v, cu_q, cu_k, max_q, max_k, causal,
                             scale, window_left, causal_align);
}

// attention_decode is forward only: asked for a gradient, its output's node
// fails naming the op and the inputs that wanted one, as ops.py's does.
struct DecodeWithoutGradient : torch::autograd::Function<DecodeWithoutGradient> {
  static variable_list forward(AutogradContext* ctx, const Tensor& q, const Tensor& k_cache,
                               const Tensor& v_cache, const Tensor& cache_seqlens,
                               const OptTensor& block_table, std::optional<double> scale,
                               bool causal, std::optional<int64_t> window_left,
                               std::string refusal) {
    ctx->saved_data["refusal"] = refusal;
    return {call_below_autograd(attention_decode_op(), q, k_cache, v_cache, cache_seqlens,
                                block_table, scale, causal, window_left)};
  }

  static variable_list backward(AutogradContext* ctx, variable_list) {
    TORCH_CHECK(false, ctx->saved_data["refusal"].toStringRef());
  }
};

Tensor attention_decode_autograd(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                                 const Tensor& cache_seqlens, const OptTensor& block_table,
                                 std::optional<double> scale, bool causal,
                                 std::optional<int64_t> window_left) {
  std::string wanting;
  if (at::GradMode::is_enabled()) {
    const std::pair<const char*, const Tensor*> inputs[] = {
        {"q", &q}, {"k_cache", &k_cache}, {"v_cache", &v_cache}};
    for (const auto& [name, tensor] : inputs) {
      if (tensor->requires_grad()) wanting += (wanting.empty() ? "" : ", ") + std::string(name);
    }
  }
  if (wanting.empty()) {
    return call_below_autograd(attention_decode_op(), q, k_cache, v_cache, cache_seqlens,
                               block_table, scale, causal, window_left);
  }
  return DecodeWithoutGradient::apply(
      q, k_cache, v_cache, cache_seqlens, block_table, scale, causal, window_left,
      "xpuruntime::attention_decode is not differentiable (it is forward only, for "
      "inference); a gradient was asked for through its inputs " + wanting)[0];
}

// The caches change in place, so autograd must see their versions move, as
// for torch's in-place ops.
Tensor kv_cache_append_inplace_or_view(c10::DispatchKeySet keys, Tensor& k_cache,
                                       Tensor& v_cache, const Tensor& k, const Tensor& v,
                                       const Tensor& cache_seqlens,
                                       const OptTensor& block_table) {
  torch::autograd::increment_version(k_cache);
  torch::autograd::increment_version(v_cache);
  at::AutoDispatchBelowADInplaceOrView below;
  return kv_cache_append_op().redispatch(keys & c10::after_ADInplaceOrView_keyset, k_cache,
                                         v_cache, k, v, cache_seqlens, block_table);
}

}  // namespace

void register_varlen_decode_kernels(KernelTable& table) {
  table.kernel("attention_varlen", TORCH_FN(attention_varlen_kernel));
  table.kernel("attention_varlen_backward", TORCH_FN(attention_varlen_backward_kernel));
  table.kernel("attention_decode", TORCH_FN(attention_decode_kernel));
  table.kernel("kv_cache_append", TORCH_FN(kv_cache_append_kernel));
  table.autograd("attention_varlen", TORCH_FN(attention_varlen_autograd));
  table.autograd("attention_decode", TORCH_FN(attention_decode_autograd));
  table.inplace_or_view("kv_cache_append", TORCH_FN(kv_cache_append_inplace_or_view));
}

}  // namespace xrt_torch
