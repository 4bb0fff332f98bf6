"""xpuruntime's ops as functions of torch tensors, differentiable, for
eager code and torch.compile alike:

    import xpuruntime.torch.functional as XF
    y = XF.layer_norm(x, weight, bias, 1e-5)
    out = XF.attention(q, k, v, causal=True)

Eagerly they call the C++ operators of native/ (see _native.py) through
its entry points, which skip torch.ops' argument parsing; where those
could not be built, torch.autograd.Functions over the kernels (or plain
calls when no gradient is wanted), which cost less than a trip through
torch's dispatcher into a Python kernel. While torch.compile traces, and
for tensor subclasses (fake tensors, tensor-parallel wrappers) or devices
the kernels do not run on, they call ``torch.ops.xpuruntime.*``, which
torch's dispatcher and tracers understand. Every way runs the same
kernels and the same autograd formulas.

The fused ops a transformer block wants: :func:`add_layer_norm` and
:func:`add_rms_norm` (the residual add inside the norm, returning the sum
for the residual stream too) and :func:`bias_gelu` (a linear layer's bias
with the activation)."""

from typing import Optional

import torch

from . import _calls, _formulas, _native
from . import ops as _ops

_PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)
_is_compiling = torch.compiler.is_compiling
_functorch_active = torch._C._are_functorch_transforms_active
_grad_enabled = torch.is_grad_enabled

# How a call goes (_route): through torch's dispatcher, as a plain call, or
# as an autograd.Function over the plain calls.
_DISPATCH, _PLAIN, _AUTOGRAD = 0, 1, 2


def _route(*tensors) -> int:
    """_DISPATCH while tracing, under functorch transforms, or for tensor
    subclasses and devices xpuruntime runs no kernels on; else _AUTOGRAD
    when a gradient is wanted, _PLAIN when not. One pass, no allocation:
    this runs on every call."""
    if _is_compiling() or _functorch_active():
        return _DISPATCH
    wants_grad = False
    for t in tensors:
        if t is None:
            continue
        if type(t) not in _PLAIN_TYPES or not (t.is_cpu or t.is_cuda):
            return _DISPATCH
        wants_grad = wants_grad or t.requires_grad
    return _AUTOGRAD if wants_grad and _grad_enabled() else _PLAIN


# _native's entry points: the C++ operators straight from Python (they
# return NotImplemented for anything but plain tensors and numbers).
_fast = _native.module


def _eager():
    """Whether a call may take _fast: not while torch.compile traces (it
    must see torch.ops) nor under functorch transforms."""
    return not (_is_compiling() or _functorch_active())


# Function.apply's Python layer (argument binding, functorch unwrapping)
# costs more than the kernel call; _route keeps functorch away, so the C
# apply under it is called directly.
_c_apply = torch._C._FunctionBase.__dict__["apply"]


def _function(name, call, setup, grad, backward_op):
    """The apply of a torch.autograd.Function running ``call`` with the
    formulas ``grad`` (a _formulas factory) over the backward op named
    ``backward_op``. Its forward takes ctx itself: a separate setup_context
    would make every apply bind the arguments by signature. The backward
    calls the plain kernel; under create_graph=True it goes through the
    custom op instead, whose outputs fail a second derivative naming the
    op (its backward is not differentiable), as torch.ops' do."""
    grad_of = grad(getattr(_calls, backward_op))
    grad_of_dispatched = grad(getattr(_ops, backward_op))

    def forward(ctx, *inputs):
        output = call(*inputs)
        setup(ctx, inputs, output)
        return output

    def backward(ctx, *grads):
        return (grad_of_dispatched if _grad_enabled() else grad_of)(ctx, *grads)

    cls = type(name, (torch.autograd.Function,), {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
    })
    return _c_apply.__get__(None, cls)


_layer_norm = _function("LayerNorm", _calls.layer_norm, _formulas.layer_norm_setup,
                        _formulas.layer_norm_grad, "layer_norm_backward")
_rms_norm = _function("RMSNorm", _calls.rms_norm, _formulas.rms_norm_setup,
                      _formulas.rms_norm_grad, "rms_norm_backward")
_add_layer_norm = _function("AddLayerNorm", _calls.add_layer_norm,
                            _formulas.add_layer_norm_setup, _formulas.add_layer_norm_grad,
                            "add_layer_norm_backward")
_add_rms_norm = _function("AddRMSNorm", _calls.add_rms_norm, _formulas.add_rms_norm_setup,
                          _formulas.add_rms_norm_grad, "add_rms_norm_backward")
_bias_gelu = _function("BiasGelu", _calls.bias_gelu, _formulas.bias_gelu_setup,
                       _formulas.bias_gelu_grad, "bias_gelu_backward")
_attention_lse = _function("AttentionLse", _calls.attention_lse, _formulas.attention_lse_setup,
                           _formulas.attention_lse_grad, "attention_backward")
_masked_attention_lse = _function("MaskedAttentionLse", _calls.masked_attention_lse,
                                  _formulas.attention_lse_setup, _formulas.attention_lse_grad,
                                  "attention_backward")


def layer_norm(x: torch.Tensor, weight: Optional[torch.Tensor] = None,
               bias: Optional[torch.Tensor] = None, eps: float = 1e-5) -> torch.Tensor:
    """Layer normalisation over the last axis (``torch.ops.xpuruntime.layer_norm``)."""
    if _fast is not None and _eager():
        y = _fast.layer_norm(x, weight, bias, eps)
        if y is not NotImplemented:
            return y
    route = _route(x, weight, bias)
    if route == _PLAIN:
        return _calls.layer_norm(x, weight, bias, eps)
    if route == _AUTOGRAD:
        return _layer_norm(x, weight, bias, eps)
    return _ops.layer_norm(x, weight, bias, eps)


def rms_norm(x: torch.Tensor, weight: Optional[torch.Tensor] = None,
             eps: float = 1e-6) -> torch.Tensor:
    """RMS normalisation over the last axis (``torch.ops.xpuruntime.rms_norm``)."""
    if _fast is not None and _eager():
        y = _fast.rms_norm(x, weight, eps)
        if y is not NotImplemented:
            return y
    route = _route(x, weight)
    if route == _PLAIN:
        return _calls.rms_norm(x, weight, eps)
    if route == _AUTOGRAD:
        return _rms_norm(x, weight, eps)
    return _ops.rms_norm(x, weight, eps)


def add_layer_norm(x: torch.Tensor, residual: torch.Tensor,
                   weight: Optional[torch.Tensor] = None, bias: Optional[torch.Tensor] = None,
                   eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """``(layer_norm(x + residual), x + residual)`` in one pass
    (``torch.ops.xpuruntime.add_layer_norm``): the sum is the residual
    stream's next value, the norm the next sublayer's input."""
    if _fast is not None and _eager():
        out = _fast.add_layer_norm(x, residual, weight, bias, eps)
        if out is not NotImplemented:
            return out
    route = _route(x, residual, weight, bias)
    if route == _PLAIN:
        return _calls.add_layer_norm(x, residual, weight, bias, eps)
    if route == _AUTOGRAD:
        return _add_layer_norm(x, residual, weight, bias, eps)
    return _ops.add_layer_norm(x, residual, weight, bias, eps)


def add_rms_norm(x: torch.Tensor, residual: torch.Tensor, weight: Optional[torch.Tensor] = None,
                 eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """``(rms_norm(x + residual), x + residual)`` in one pass
    (``torch.ops.xpuruntime.add_rms_norm``)."""
    if _fast is not None and _eager():
        out = _fast.add_rms_norm(x, residual, weight, eps)
        if out is not NotImplemented:
            return out
    route = _route(x, residual, weight)
    if route == _PLAIN:
        return _calls.add_rms_norm(x, residual, weight, eps)
    if route == _AUTOGRAD:
        return _add_rms_norm(x, residual, weight, eps)
    return _ops.add_rms_norm(x, residual, weight, eps)


def bias_gelu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``gelu(x + bias)`` (erf form) with ``bias`` along the last axis
    (``torch.ops.xpuruntime.bias_gelu``)."""
    if _fast is not None and _eager():
        out = _fast.bias_gelu(x, bias)
        if out is not NotImplemented:
            return out
    route = _route(x, bias)
    if route == _PLAIN:
        return _calls.bias_gelu(x, bias)
    if route == _AUTOGRAD:
        return _bias_gelu(x, bias)
    return _ops.bias_gelu(x, bias)


def attention_lse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
                  scale: Optional[float] = None, *, attn_mask: Optional[torch.Tensor] = None,
                  key_lengths: Optional[torch.Tensor] = None, window_left: Optional[int] = None,
                  causal_align: str = "top_left") -> tuple[torch.Tensor, torch.Tensor]:
    """Attention's output over (batch, heads, seq, head_dim) and the float32
    log-sum-exp of each query's scores (``torch.ops.xpuruntime.attention_lse``);
    the backward reuses both instead of recomputing the forward. Masks and
    grouped heads as :func:`attention`."""
    if (attn_mask is None and key_lengths is None and window_left is None
            and causal_align == "top_left"):
        if _fast is not None and _eager():
            out = _fast.attention_lse(q, k, v, causal, scale)
            if out is not NotImplemented:
                return out
        route = _route(q, k, v)
        if route == _PLAIN:
            return _calls.attention_lse(q, k, v, causal, scale)
        if route == _AUTOGRAD:
            return _attention_lse(q, k, v, causal, scale)
        return _ops.attention_lse(q, k, v, causal, scale)
    masks = (attn_mask, key_lengths, window_left, causal_align)
    if _fast is not None:  # the C++ kernels through the dispatcher
        return _ops.attention_lse(q, k, v, causal, scale, *masks)
    route = _route(q, k, v, attn_mask, key_lengths)
    if route == _PLAIN:
        return _calls.masked_attention_lse(q, k, v, causal, scale, *masks)
    if route == _AUTOGRAD:
        return _masked_attention_lse(q, k, v, causal, scale, *masks)
    return _ops.attention_lse(q, k, v, causal, scale, *masks)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
              scale: Optional[float] = None, *, attn_mask: Optional[torch.Tensor] = None,
              key_lengths: Optional[torch.Tensor] = None, window_left: Optional[int] = None,
              causal_align: str = "top_left") -> torch.Tensor:
    """Scaled dot-product attention over (batch, heads, seq, head_dim), as
    torch's scaled_dot_product_attention (causal masks top-left aligned
    unless ``causal_align="bottom_right"``). k and v may have fewer heads
    than q (grouped-query attention); ``attn_mask`` is bool (True = attend)
    or additive, broadcastable to (batch, heads, Lq, Lk); ``key_lengths``
    int32 (batch,) counts each entry's valid keys; ``window_left`` limits
    each query to that many keys before its diagonal. A query that sees no
    key gets zeros. With a gradient to compute it keeps the log-sum-exp for
    the backward."""
    if (attn_mask is None and key_lengths is None and window_left is None
            and causal_align == "top_left"):
        if _fast is not None and _eager():
            out = _fast.attention(q, k, v, causal, scale)
            if out is not NotImplemented:
                return out
        route = _route(q, k, v)
        if route == _PLAIN:
            return _calls.attention(q, k, v, causal, scale)
        if route == _AUTOGRAD:
            return _attention_lse(q, k, v, causal, scale)[0]
        masks = ()
    else:
        masks = (attn_mask, key_lengths, window_left, causal_align)
        if _fast is not None:  # the C++ kernels through the dispatcher
            return _ops.attention(q, k, v, causal, scale, *masks)
        route = _route(q, k, v, attn_mask, key_lengths)
        if route == _PLAIN:
            return _calls.masked_attention(q, k, v, causal, scale, *masks)
        if route == _AUTOGRAD:
            return _masked_attention_lse(q, k, v, causal, scale, *masks)[0]
    if torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v)):
        return _ops.attention_lse(q, k, v, causal, scale, *masks)[0]
    return _ops.attention(q, k, v, causal, scale, *masks)
