// layer_norm, rms_norm, their residual-add forms and bias_gelu: the
// runtime kernels (CPU and CUDA) and the autograd nodes (as _formulas.py's).
#include "operators.h"

namespace xrt_torch {

XRT_TORCH_OPERATOR(layer_norm_op, LayerNormSig, "layer_norm")
XRT_TORCH_OPERATOR(rms_norm_op, RmsNormSig, "rms_norm")
XRT_TORCH_OPERATOR(add_layer_norm_op, AddLayerNormSig, "add_layer_norm")
XRT_TORCH_OPERATOR(add_rms_norm_op, AddRmsNormSig, "add_rms_norm")
XRT_TORCH_OPERATOR(bias_gelu_op, BiasGeluSig, "bias_gelu")

namespace {

XRT_TORCH_OPERATOR(layer_norm_backward_op, LayerNormBackwardSig, "layer_norm_backward")
XRT_TORCH_OPERATOR(rms_norm_backward_op, RmsNormBackwardSig, "rms_norm_backward")
XRT_TORCH_OPERATOR(add_layer_norm_backward_op, AddLayerNormBackwardSig,
                   "add_layer_norm_backward")
XRT_TORCH_OPERATOR(add_rms_norm_backward_op, AddRmsNormBackwardSig, "add_rms_norm_backward")
XRT_TORCH_OPERATOR(bias_gelu_backward_op, BiasGeluBackwardSig, "bias_gelu_backward")

// ---- kernels ----------------------------------------------------------------------

// Runs `op` on `inputs` with attribute eps (when given).
std::vector<Tensor> run(const char* op, std::initializer_list<const OptTensor*> inputs,
                        std::optional<double> eps, size_t num_outputs) {
  RuntimeCall call(op);
  for (const OptTensor* t : inputs) call.input(*t);
  if (eps.has_value()) call.attr("eps", *eps);
  return call.run(num_outputs);
}

Tensors2 pair(std::vector<Tensor> out) { return {out[0], out[1]}; }
Tensors3 triple(std::vector<Tensor> out) { return {out[0], out[1], out[2]}; }

Tensor layer_norm_kernel(const Tensor& x, const OptTensor& weight, const OptTensor& bias,
                         double eps) {
  const OptTensor tx(x);
  return run("layer_norm", {&tx, &weight, &bias}, eps, 1)[0];
}

Tensors3 layer_norm_backward_kernel(const Tensor& grad, const Tensor& x, const OptTensor& weight,
                                    double eps) {
  const OptTensor tg(grad), tx(x);
  return triple(run("layer_norm_backward", {&tg, &tx, &weight}, eps, 3));
}

Tensor rms_norm_kernel(const Tensor& x, const OptTensor& weight, double eps) {
  const OptTensor tx(x);
  return run("rms_norm", {&tx, &weight}, eps, 1)[0];
}

Tensors2 rms_norm_backward_kernel(const Tensor& grad, const Tensor& x, const OptTensor& weight,
                                  double eps) {
  const OptTensor tg(grad), tx(x);
  return pair(run("rms_norm_backward", {&tg, &tx, &weight}, eps, 2));
}

Tensors2 add_layer_norm_kernel(const Tensor& x, const Tensor& residual, const OptTensor& weight,
                               const OptTensor& bias, double eps) {
  const OptTensor tx(x), tr(residual);
  return pair(run("add_layer_norm", {&tx, &tr, &weight, &bias}, eps, 2));
}

Tensors3 add_layer_norm_backward_kernel(const Tensor& grad, const Tensor& sum,
                                        const OptTensor& weight, const OptTensor& grad_sum,
                                        double eps) {
  const OptTensor tg(grad), ts(sum);
  return triple(run("add_layer_norm_backward", {&tg, &ts, &weight, &grad_sum}, eps, 3));
}

Tensors2 add_rms_norm_kernel(const Tensor& x, const Tensor& residual, const OptTensor& weight,
                             double eps) {
  const OptTensor tx(x), tr(residual);
  return pair(run("add_rms_norm", {&tx, &tr, &weight}, eps, 2));
}

Tensors2 add_rms_norm_backward_kernel(const Tensor& grad, const Tensor& sum,
                                      const OptTensor& weight, const OptTensor& grad_sum,
                                      double eps) {
  const OptTensor tg(grad), ts(sum);
  return pair(run("add_rms_norm_backward", {&tg, &ts, &weight, &grad_sum}, eps, 2));
}

Tensor bias_gelu_kernel(const Tensor& x, const Tensor& bias) {
  const OptTensor tx(x), tb(bias);
  return run("bias_gelu", {&tx, &tb}, std::nullopt, 1)[0];
}

Tensors2 bias_gelu_backward_kernel(const Tensor& grad, const Tensor& x, const Tensor& bias) {
  const OptTensor tg(grad), tx(x), tb(bias);
  return pair(run("bias_gelu_backward", {&tg, &tx, &tb}, std::nullopt, 2));
}

// ---- autograd nodes ------------------------------------------------------------------------

void save_norm(AutogradContext* ctx, const Tensor& x, const OptTensor& weight,
               const OptTensor& bias, double eps) {
  ctx->save_for_backward({x, weight.value_or(Tensor())});
  ctx->saved_data["eps"] = eps;
  ctx->saved_data["has_weight"] = weight.has_value();
  ctx->saved_data["has_bias"] = bias.has_value();
}

// (x or sum, weight or nothing, eps) as save_norm kept them.
struct SavedNorm {
  Tensor x;
  OptTensor weight;
  double eps;
  bool has_weight;
  bool has_bias;

  explicit SavedNorm(AutogradContext* ctx) {
    const auto saved = ctx->get_saved_variables();
    has_weight = ctx->saved_data["has_weight"].toBool();
    has_bias = ctx->saved_data["has_bias"].toBool();
    eps = ctx->saved_data["eps"].toDouble();
    x = saved[0];
    weight = saved_if(has_weight, saved[1]);
  }
  Tensor weight_grad(const Tensor& g) const { return has_weight ? g : Tensor(); }
  Tensor bias_grad(const Tensor& g) const { return has_bias ? g : Tensor(); }
};

OptTensor contiguous_or_none(const Tensor& grad) {
  return grad.defined() ? OptTensor(grad.contiguous()) : std::nullopt;
}

struct LayerNormFunction : torch::autograd::Function<LayerNormFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const OptTensor& weight,
                        const OptTensor& bias, double eps) {
    Tensor y = call_below_autograd(layer_norm_op(), x, weight, bias, eps);
    save_norm(ctx, x, weight, bias, eps);
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const SavedNorm s(ctx);
    auto [dx, dweight, dbias] = call_backward(layer_norm_backward_op(), grads[0].contiguous(),
                                              s.x, s.weight, s.eps);
    return {dx, s.weight_grad(dweight), s.bias_grad(dbias), Tensor()};
  }
};

struct RmsNormFunction : torch::autograd::Function<RmsNormFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const OptTensor& weight,
                        double eps) {
    Tensor y = call_below_autograd(rms_norm_op(), x, weight, eps);
    save_norm(ctx, x, weight, std::nullopt, eps);
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const SavedNorm s(ctx);
    auto [dx, dweight] =
        call_backward(rms_norm_backward_op(), grads[0].contiguous(), s.x, s.weight, s.eps);
    return {dx, s.weight_grad(dweight), Tensor()};
  }
};

// The residual-add norms keep the sum: all their backward needs of x and
// residual, whose gradients are both the sum's.
struct AddLayerNormFunction : torch::autograd::Function<AddLayerNormFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& residual,
                               const OptTensor& weight, const OptTensor& bias, double eps) {
    auto [y, sum] = call_below_autograd(add_layer_norm_op(), x, residual, weight, bias, eps);
    save_norm(ctx, sum, weight, bias, eps);
    return {y, sum};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const SavedNorm s(ctx);
    auto [dsum, dweight, dbias] =
        call_backward(add_layer_norm_backward_op(), grads[0].contiguous(), s.x, s.weight,
                      contiguous_or_none(grads[1]), s.eps);
    return {dsum, dsum, s.weight_grad(dweight), s.bias_grad(dbias), Tensor()};
  }
};

struct AddRmsNormFunction : torch::autograd::Function<AddRmsNormFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& residual,
                               const OptTensor& weight, double eps) {
    auto [y, sum] = call_below_autograd(add_rms_norm_op(), x, residual, weight, eps);
    save_norm(ctx, sum, weight, std::nullopt, eps);
    return {y, sum};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const SavedNorm s(ctx);
    auto [dsum, dweight] = call_backward(add_rms_norm_backward_op(), grads[0].contiguous(), s.x,
                                         s.weight, contiguous_or_none(grads[1]), s.eps);
    return {dsum, dsum, s.weight_grad(dweight), Tensor()};
  }
};

struct BiasGeluFunction : torch::autograd::Function<BiasGeluFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& bias) {
    Tensor y = call_below_autograd(bias_gelu_op(), x, bias);
    ctx->save_for_backward({x, bias});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    auto [dx, dbias] =
        call_backward(bias_gelu_backward_op(), grads[0].contiguous(), saved[0], saved[1]);
    return {dx, dbias};
  }
};

// ---- Autograd kernels ------------------------------------------------------------------------

Tensor layer_norm_autograd(const Tensor& x, const OptTensor& weight, const OptTensor& bias,
                           double eps) {
  const OptTensor tx(x);
  if (wants_grad("layer_norm", {&tx, &weight, &bias})) {
    return LayerNormFunction::apply(x, weight, bias, eps);
  }
  return call_below_autograd(layer_norm_op(), x, weight, bias, eps);
}

Tensor rms_norm_autograd(const Tensor& x, const OptTensor& weight, double eps) {
  const OptTensor tx(x);
  if (wants_grad("rms_norm", {&tx, &weight})) return RmsNormFunction::apply(x, weight, eps);
  return call_below_autograd(rms_norm_op(), x, weight, eps);
}

Tensors2 add_layer_norm_autograd(const Tensor& x, const Tensor& residual,
                                 const OptTensor& weight, const OptTensor& bias, double eps) {
  const OptTensor tx(x), tr(residual);
  if (wants_grad("add_layer_norm", {&tx, &tr, &weight, &bias})) {
    auto out = AddLayerNormFunction::apply(x, residual, weight, bias, eps);
    return {out[0], out[1]};
  }
  return call_below_autograd(add_layer_norm_op(), x, residual, weight, bias, eps);
}

Tensors2 add_rms_norm_autograd(const Tensor& x, const Tensor& residual, const OptTensor& weight,
                               double eps) {
  const OptTensor tx(x), tr(residual);
  if (wants_grad("add_rms_norm", {&tx, &tr, &weight})) {
    auto out = AddRmsNormFunction::apply(x, residual, weight, eps);
    return {out[0], out[1]};
  }
  return call_below_autograd(add_rms_norm_op(), x, residual, weight, eps);
}

Tensor bias_gelu_autograd(const Tensor& x, const Tensor& bias) {
  const OptTensor tx(x), tb(bias);
  if (wants_grad("bias_gelu", {&tx, &tb})) return BiasGeluFunction::apply(x, bias);
  return call_below_autograd(bias_gelu_op(), x, bias);
}

}  // namespace

void register_norm_kernels(KernelTable& table) {
  table.kernel("layer_norm", TORCH_FN(layer_norm_kernel));
  table.kernel("layer_norm_backward", TORCH_FN(layer_norm_backward_kernel));
  table.kernel("rms_norm", TORCH_FN(rms_norm_kernel));
  table.kernel("rms_norm_backward", TORCH_FN(rms_norm_backward_kernel));
  table.kernel("add_layer_norm", TORCH_FN(add_layer_norm_kernel));
  table.kernel("add_layer_norm_backward", TORCH_FN(add_layer_norm_backward_kernel));
  table.kernel("add_rms_norm", TORCH_FN(add_rms_norm_kernel));
  table.kernel("add_rms_norm_backward", TORCH_FN(add_rms_norm_backward_kernel));
  table.kernel("bias_gelu", TORCH_FN(bias_gelu_kernel));
  table.kernel("bias_gelu_backward", TORCH_FN(bias_gelu_backward_kernel));
  table.autograd("layer_norm", TORCH_FN(layer_norm_autograd));
  table.autograd("rms_norm", TORCH_FN(rms_norm_autograd));
  table.autograd("add_layer_norm", TORCH_FN(add_layer_norm_autograd));
  table.autograd("add_rms_norm", TORCH_FN(add_rms_norm_autograd));
  table.autograd("bias_gelu", TORCH_FN(bias_gelu_autograd));
}

}  // namespace xrt_torch
