"""``torch.ops.xpuruntime.*``: xpuruntime's kernels as torch operators,
defined with ``torch.library.Library.define`` and implemented for the CPU
and CUDA dispatch keys by the C-level calls of _calls.py (a Python
custom_op wrapper would cost about twice as much per call), with autograd
formulas that call the backward operators and fake implementations that
let ``torch.compile`` trace them without graph breaks. Eager code reaches
the same kernels faster through :mod:`xpuruntime.torch.functional`, which
calls these operators only while torch.compile traces."""

import torch

from . import _calls, _formulas

_NAMESPACE = "xpuruntime"
_LIB = torch.library.Library(_NAMESPACE, "DEF")


def _define(schema, call, fake):
    """Defines ``xpuruntime::<name>`` from its schema, runs ``call`` for CPU
    and CUDA tensors, ``fake`` for tracing; returns its overload."""
    name = schema.split("(", 1)[0]
    _LIB.define(schema)
    for key in ("CPU", "CUDA"):
        _LIB.impl(name, call, key)
    torch.library.register_fake(f"{_NAMESPACE}::{name}", fake, lib=_LIB)
    return getattr(getattr(torch.ops, _NAMESPACE), name).default


def _autograd(op, grad_of, setup):
    torch.library.register_autograd(op, grad_of, setup_context=setup, lib=_LIB)


def _empty_like_contiguous(x):
    return torch.empty(x.shape, dtype=x.dtype, device=x.device)


def _empty_in_axis_order_of(like, shape):
    """An empty (batch, heads, seq, dim) tensor laid out as the runtime lays
    out an attention output: (batch, seq, heads, dim) in memory when ``like``
    is such a view (heads inner to seq, both longer than 1), else contiguous.
    torch.compile trusts these strides, so they must be the kernel's."""
    b, h, l, d = shape
    if like.shape[1] > 1 and like.shape[2] > 1 and like.stride(1) < like.stride(2):
        return like.new_empty((b, l, h, d)).transpose(1, 2)
    return like.new_empty(shape)


def _row(x):
    return x.new_empty((x.shape[-1],))


# ---- norms ------------------------------------------------------------------

layer_norm = _define(
    "layer_norm(Tensor x, Tensor? weight, Tensor? bias, float eps) -> Tensor",
    _calls.layer_norm, lambda x, weight, bias, eps: _empty_like_contiguous(x))
layer_norm_backward = _define(
    "layer_norm_backward(Tensor grad, Tensor x, Tensor? weight, float eps)"
    " -> (Tensor, Tensor, Tensor)",
    _calls.layer_norm_backward,
    lambda grad, x, weight, eps: (_empty_like_contiguous(x), _row(x), _row(x)))
_autograd(layer_norm, _formulas.layer_norm_grad(layer_norm_backward),
          _formulas.layer_norm_setup)

rms_norm = _define(
    "rms_norm(Tensor x, Tensor? weight, float eps) -> Tensor",
    _calls.rms_norm, lambda x, weight, eps: _empty_like_contiguous(x))
rms_norm_backward = _define(
    "rms_norm_backward(Tensor grad, Tensor x, Tensor? weight, float eps) -> (Tensor, Tensor)",
    _calls.rms_norm_backward,
    lambda grad, x, weight, eps: (_empty_like_contiguous(x), _row(x)))
_autograd(rms_norm, _formulas.rms_norm_grad(rms_norm_backward), _formulas.rms_norm_setup)

# ---- residual add fused into a norm: (norm of x + residual, the sum) ------------

add_layer_norm = _define(
    "add_layer_norm(Tensor x, Tensor residual, Tensor? weight, Tensor? bias, float eps)"
    " -> (Tensor, Tensor)",
    _calls.add_layer_norm,
    lambda x, residual, weight, bias, eps: (_empty_like_contiguous(x),
                                            _empty_like_contiguous(x)))
add_layer_norm_backward = _define(
    "add_layer_norm_backward(Tensor grad, Tensor sum, Tensor? weight, Tensor? grad_sum,"
    " float eps) -> (Tensor, Tensor, Tensor)",
    _calls.add_layer_norm_backward,
    lambda grad, total, weight, grad_sum, eps: (_empty_like_contiguous(total), _row(total),
                                                _row(total)))
_autograd(add_layer_norm, _formulas.add_layer_norm_grad(add_layer_norm_backward),
          _formulas.add_layer_norm_setup)

add_rms_norm = _define(
    "add_rms_norm(Tensor x, Tensor residual, Tensor? weight, float eps) -> (Tensor, Tensor)",
    _calls.add_rms_norm,
    lambda x, residual, weight, eps: (_empty_like_contiguous(x), _empty_like_contiguous(x)))
add_rms_norm_backward = _define(
    "add_rms_norm_backward(Tensor grad, Tensor sum, Tensor? weight, Tensor? grad_sum,"
    " float eps) -> (Tensor, Tensor)",
    _calls.add_rms_norm_backward,
    lambda grad, total, weight, grad_sum, eps: (_empty_like_contiguous(total), _row(total)))
_autograd(add_rms_norm, _formulas.add_rms_norm_grad(add_rms_norm_backward),
          _formulas.add_rms_norm_setup)

# ---- gelu(x + bias) ------------------------------------------------------------

bias_gelu = _define(
    "bias_gelu(Tensor x, Tensor bias) -> Tensor",
    _calls.bias_gelu, lambda x, bias: _empty_like_contiguous(x))
bias_gelu_backward = _define(
    "bias_gelu_backward(Tensor grad, Tensor x, Tensor bias) -> (Tensor, Tensor)",
    _calls.bias_gelu_backward, lambda grad, x, bias: (_empty_like_contiguous(x), _row(x)))
_autograd(bias_gelu, _formulas.bias_gelu_grad(bias_gelu_backward), _formulas.bias_gelu_setup)

# ---- attention ------------------------------------------------------------------
# Over (batch, heads, seq, head_dim), as torch's scaled_dot_product_attention
# (causal masks top-left aligned). attention_lse adds the float32 log-sum-exp
# of each query's scores, (batch, heads, seq), which attention_backward takes
# (with the output) instead of recomputing the forward.

attention = _define(
    "attention(Tensor q, Tensor k, Tensor v, bool causal, float? scale) -> Tensor",
    _calls.attention,
    lambda q, k, v, causal, scale: _empty_in_axis_order_of(q, (*q.shape[:-1], v.shape[-1])))
attention_lse = _define(
    "attention_lse(Tensor q, Tensor k, Tensor v, bool causal, float? scale) -> (Tensor, Tensor)",
    _calls.attention_lse,
    lambda q, k, v, causal, scale: (_empty_in_axis_order_of(q, (*q.shape[:-1], v.shape[-1])),
                                    q.new_empty(q.shape[:-1], dtype=torch.float32)))
attention_backward = _define(
    "attention_backward(Tensor grad, Tensor q, Tensor k, Tensor v, bool causal, float? scale,"
    " Tensor? output=None, Tensor? lse=None) -> (Tensor, Tensor, Tensor)",
    _calls.attention_backward,
    lambda grad, q, k, v, causal, scale, output=None, lse=None: tuple(
        _empty_in_axis_order_of(x, x.shape) for x in (q, k, v)))
_autograd(attention, _formulas.attention_grad(attention_backward), _formulas.attention_setup)
_autograd(attention_lse, _formulas.attention_lse_grad(attention_backward),
          _formulas.attention_lse_setup)
