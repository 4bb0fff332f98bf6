// attention, attention_lse and attention_backward: the runtime kernels
// (CPU and CUDA) and the autograd node.
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <string>

#include "operators.h"

namespace xrt_torch {

XRT_TORCH_OPERATOR(attention_op, AttentionSig, "attention")
XRT_TORCH_OPERATOR(attention_lse_op, AttentionLseSig, "attention_lse")

namespace {

XRT_TORCH_OPERATOR(attention_backward_op, AttentionBackwardSig, "attention_backward")

std::map<std::string, int64_t, std::less<>> g_causal_align;

// A float as Python's repr writes it, for messages that match the Python layer's.
std::string float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::array<char, 32> text{};
  auto end = std::to_chars(text.data(), text.data() + text.size(), value).ptr;
  std::string repr(text.data(), end);
  if (repr.find_first_of(".e") == std::string::npos) repr += ".0";
  return repr;
}

}  // namespace

double checked_scale(const char* op, std::optional<double> scale) {
  if (scale.has_value() && !(*scale > 0.0 && *scale < INFINITY)) {
    invalid(std::string(op) + ": scale must be > 0 and finite, got " + float_repr(*scale));
  }
  return scale.value_or(0.0);
}

int64_t causal_align_number(const char* op, c10::string_view name) {
  auto align = g_causal_align.find(name);
  if (align == g_causal_align.end()) {
    invalid(std::string(op) + ": causal_align must be 'top_left' or 'bottom_right', got '" +
            std::string(name) + "'");
  }
  return align->second;
}

namespace {

// Attention's attributes as the Python layer sets them: scale None is the
// op's default (0 in C), window_left None is -1 (no window).
struct AttentionAttrs {
  bool causal;
  std::optional<double> scale;
  std::optional<int64_t> window_left;
  std::string causal_align;

  // What the torch ops' Python kernels check before the runtime (which
  // checks window_left): errors name `op`.
  int64_t checked_align(const char* op) const {
    checked_scale(op, scale);
    return causal_align_number(op, causal_align);
  }

  void add_to(RuntimeCall& call, const char* op, bool masked) const {
    const int64_t align = checked_align(op);
    call.attr("causal", int64_t{causal ? 1 : 0});
    call.attr("scale", scale.value_or(0.0));
    if (!masked) return;
    call.attr("window_left", window_left.value_or(-1));
    call.attr("causal_align", align);
  }
};

bool has_masks(const OptTensor& attn_mask, const OptTensor& key_lengths,
               const AttentionAttrs& attrs) {
  return attn_mask.has_value() || key_lengths.has_value() || attrs.window_left.has_value() ||
         attrs.causal_align != "top_left";
}

std::vector<Tensor> run_attention(const char* op, const Tensor& q, const Tensor& k,
                                  const Tensor& v, const OptTensor& attn_mask,
                                  const OptTensor& key_lengths, const AttentionAttrs& attrs,
                                  size_t num_outputs) {
  RuntimeCall call(op);
  call.input(q);
  call.input(k);
  call.input(v);
  const bool masked = has_masks(attn_mask, key_lengths, attrs);
  if (masked) {
    call.input(attn_mask);
    call.input(key_lengths);
  }
  attrs.add_to(call, op, masked);
  return call.run(num_outputs);
}

Tensor attention_kernel(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                        std::optional<double> scale, const OptTensor& attn_mask,
                        const OptTensor& key_lengths, std::optional<int64_t> window_left,
                        c10::string_view causal_align) {
  AttentionAttrs attrs{causal, scale, window_left, std::string(causal_align)};
  return run_attention("attention", q, k, v, attn_mask, key_lengths, attrs, 1)[0];
}

std::tuple<Tensor, Tensor> attention_lse_kernel(const Tensor& q, const Tensor& k, const Tensor& v,
                                                bool causal, std::optional<double> scale,
                                                const OptTensor& attn_mask,
                                                const OptTensor& key_lengths,
                                                std::optional<int64_t> window_left,
                                                c10::string_view causal_align) {
  AttentionAttrs attrs{causal, scale, window_left, std::string(causal_align)};
  auto out = run_attention("attention_lse", q, k, v, attn_mask, key_lengths, attrs, 2);
  return {out[0], out[1]};
}

std::tuple<Tensor, Tensor, Tensor> attention_backward_kernel(
    const Tensor& grad, const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
    std::optional<double> scale, const OptTensor& output, const OptTensor& lse,
    const OptTensor& attn_mask, const OptTensor& key_lengths, std::optional<int64_t> window_left,
    c10::string_view causal_align) {
  RuntimeCall call("attention_backward");
  for (const Tensor* t : {&grad, &q, &k, &v}) call.input(*t);
  for (const OptTensor* t : {&output, &lse, &attn_mask, &key_lengths}) call.input(*t);
  AttentionAttrs{causal, scale, window_left, std::string(causal_align)}.add_to(
      call, "attention_backward", true);
  auto out = call.run(3);
  return {out[0], out[1], out[2]};
}

// Attention keeps its output and log-sum-exp for the backward, which so
// skips recomputing the forward. q, k and v get gradients, the masks none.
struct AttentionFunction : torch::autograd::Function<AttentionFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& q, const Tensor& k,
                               const Tensor& v, bool causal, std::optional<double> scale,
                               const OptTensor& attn_mask, const OptTensor& key_lengths,
                               std::optional<int64_t> window_left, std::string causal_align) {
    TORCH_CHECK_NOT_IMPLEMENTED(!(attn_mask.has_value() && attn_mask->requires_grad()),
                                "xpuruntime attention: attn_mask gets no gradient; detach it");
    auto [out, lse] = call_below_autograd(attention_lse_op(), q, k, v, causal, scale, attn_mask,
                                          key_lengths, window_left, c10::string_view(causal_align));
    ctx->mark_non_differentiable({lse});
    ctx->save_for_backward({q, k, v, out, lse, attn_mask.value_or(Tensor()),
                            key_lengths.value_or(Tensor())});
    ctx->saved_data["causal"] = causal;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["window_left"] = window_left;
    ctx->saved_data["causal_align"] = causal_align;
    ctx->saved_data["has_attn_mask"] = attn_mask.has_value();
    ctx->saved_data["has_key_lengths"] = key_lengths.has_value();
    return {out, lse};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    auto& data = ctx->saved_data;
    auto [dq, dk, dv] = call_backward(
        attention_backward_op(), grads[0], s[0], s[1], s[2], data["causal"].toBool(),
        data["scale"].toOptional<double>(), OptTensor(s[3]), OptTensor(s[4]),
        saved_if(data["has_attn_mask"].toBool(), s[5]),
        saved_if(data["has_key_lengths"].toBool(), s[6]), data["window_left"].toOptional<int64_t>(),
        c10::string_view(data["causal_align"].toStringRef()));
    variable_list result(9);
    result[0] = dq;
    result[1] = dk;
    result[2] = dv;
    return result;
  }
};

bool attention_wants_grad(const Tensor& q, const Tensor& k, const Tensor& v,
                          const OptTensor& attn_mask, const char* op) {
  const OptTensor tq(q), tk(k), tv(v);
  return wants_grad(op, {&tq, &tk, &tv, &attn_mask});
}

Tensor attention_autograd(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                          std::optional<double> scale, const OptTensor& attn_mask,
                          const OptTensor& key_lengths, std::optional<int64_t> window_left,
                          c10::string_view causal_align) {
  // Checked here, so errors name this op rather than attention_lse.
  AttentionAttrs{causal, scale, window_left, std::string(causal_align)}.checked_align(
      "attention");
  if (attention_wants_grad(q, k, v, attn_mask, "attention")) {
    return AttentionFunction::apply(q, k, v, causal, scale, attn_mask, key_lengths, window_left,
                                    std::string(causal_align))[0];
  }
  return call_below_autograd(attention_op(), q, k, v, causal, scale, attn_mask, key_lengths,
                             window_left, causal_align);
}

std::tuple<Tensor, Tensor> attention_lse_autograd(const Tensor& q, const Tensor& k,
                                                  const Tensor& v, bool causal,
                                                  std::optional<double> scale,
                                                  const OptTensor& attn_mask,
                                                  const OptTensor& key_lengths,
                                                  std::optional<int64_t> window_left,
                                                  c10::string_view causal_align) {
  if (attention_wants_grad(q, k, v, attn_mask, "attention_lse")) {
    auto out = AttentionFunction::apply(q, k, v, causal, scale, attn_mask, key_lengths,
                                        window_left, std::string(causal_align));
    return {out[0], out[1]};
  }
  return call_below_autograd(attention_lse_op(), q, k, v, causal, scale, attn_mask, key_lengths,
                             window_left, causal_align);
}

}  // namespace

void set_causal_align(const char* name, int64_t number) { g_causal_align[name] = number; }

void register_attention_kernels(KernelTable& table) {
  table.kernel("attention", TORCH_FN(attention_kernel));
  table.kernel("attention_lse", TORCH_FN(attention_lse_kernel));
  table.kernel("attention_backward", TORCH_FN(attention_backward_kernel));
  table.autograd("attention", TORCH_FN(attention_autograd));
  table.autograd("attention_lse", TORCH_FN(attention_lse_autograd));
}

}  // namespace xrt_torch
