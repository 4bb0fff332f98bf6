"""``torch.ops.xpuruntime.*``: xpuruntime's kernels as torch custom ops, with
autograd formulas that call the backward kernels and fake implementations
that let ``torch.compile`` trace them without graph breaks."""

from typing import Optional

import torch

from xpuruntime import ops as _xrt_ops

from ._bridge import stream_for, to_torch, to_xrt

_LIB = "xpuruntime"


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


# ---- layer_norm -------------------------------------------------------------

@torch.library.custom_op(f"{_LIB}::layer_norm", mutates_args=())
def layer_norm(x: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor],
               eps: float) -> torch.Tensor:
    """Layer normalisation over the last axis."""
    y = _xrt_ops.layer_norm(to_xrt(x), to_xrt(weight), to_xrt(bias), eps, stream=stream_for(x))
    return to_torch(y)


@layer_norm.register_fake
def _(x, weight, bias, eps):
    return _empty_like_contiguous(x)


@torch.library.custom_op(f"{_LIB}::layer_norm_backward", mutates_args=())
def layer_norm_backward(grad: torch.Tensor, x: torch.Tensor, weight: Optional[torch.Tensor],
                        eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dweight, dbias) of layer_norm for the output gradient ``grad``."""
    out = _xrt_ops.layer_norm_backward(to_xrt(grad), to_xrt(x), to_xrt(weight), eps,
                                       stream=stream_for(x))
    return tuple(to_torch(t) for t in out)


@layer_norm_backward.register_fake
def _(grad, x, weight, eps):
    n = x.shape[-1]
    return (_empty_like_contiguous(x), x.new_empty((n,)), x.new_empty((n,)))


def _layer_norm_setup(ctx, inputs, output):
    x, weight, bias, eps = inputs
    ctx.save_for_backward(x, weight)
    ctx.eps = eps
    ctx.has_bias = bias is not None


def _layer_norm_grad(ctx, grad):
    x, weight = ctx.saved_tensors
    dx, dweight, dbias = layer_norm_backward(grad.contiguous(), x, weight, ctx.eps)
    return (dx, dweight if weight is not None else None, dbias if ctx.has_bias else None, None)


layer_norm.register_autograd(_layer_norm_grad, setup_context=_layer_norm_setup)


# ---- rms_norm ---------------------------------------------------------------

@torch.library.custom_op(f"{_LIB}::rms_norm", mutates_args=())
def rms_norm(x: torch.Tensor, weight: Optional[torch.Tensor], eps: float) -> torch.Tensor:
    """RMS normalisation over the last axis."""
    return to_torch(_xrt_ops.rms_norm(to_xrt(x), to_xrt(weight), eps, stream=stream_for(x)))


@rms_norm.register_fake
def _(x, weight, eps):
    return _empty_like_contiguous(x)


@torch.library.custom_op(f"{_LIB}::rms_norm_backward", mutates_args=())
def rms_norm_backward(grad: torch.Tensor, x: torch.Tensor, weight: Optional[torch.Tensor],
                      eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(dx, dweight) of rms_norm for the output gradient ``grad``."""
    out = _xrt_ops.rms_norm_backward(to_xrt(grad), to_xrt(x), to_xrt(weight), eps,
                                     stream=stream_for(x))
    return tuple(to_torch(t) for t in out)


@rms_norm_backward.register_fake
def _(grad, x, weight, eps):
    return (_empty_like_contiguous(x), x.new_empty((x.shape[-1],)))


def _rms_norm_setup(ctx, inputs, output):
    x, weight, eps = inputs
    ctx.save_for_backward(x, weight)
    ctx.eps = eps


def _rms_norm_grad(ctx, grad):
    x, weight = ctx.saved_tensors
    dx, dweight = rms_norm_backward(grad.contiguous(), x, weight, ctx.eps)
    return dx, dweight if weight is not None else None, None


rms_norm.register_autograd(_rms_norm_grad, setup_context=_rms_norm_setup)


# ---- attention --------------------------------------------------------------

@torch.library.custom_op(f"{_LIB}::attention", mutates_args=())
def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool,
              scale: Optional[float]) -> torch.Tensor:
    """Scaled dot-product attention over (batch, heads, seq, head_dim), as
    torch's scaled_dot_product_attention (causal masks top-left aligned)."""
    out = _xrt_ops.attention(to_xrt(q), to_xrt(k), to_xrt(v), causal, scale, stream=stream_for(q))
    return to_torch(out)


@attention.register_fake
def _(q, k, v, causal, scale):
    return _empty_in_axis_order_of(q, (*q.shape[:-1], v.shape[-1]))


@torch.library.custom_op(f"{_LIB}::attention_lse", mutates_args=())
def attention_lse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool,
                  scale: Optional[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """attention's output and the float32 log-sum-exp of each query's scores,
    (batch, heads, seq); the backward takes both instead of recomputing the
    forward, which is what training wants."""
    out, lse = _xrt_ops.attention(to_xrt(q), to_xrt(k), to_xrt(v), causal, scale,
                                  stream=stream_for(q), return_lse=True)
    return to_torch(out), to_torch(lse)


@attention_lse.register_fake
def _(q, k, v, causal, scale):
    return (_empty_in_axis_order_of(q, (*q.shape[:-1], v.shape[-1])),
            q.new_empty(q.shape[:-1], dtype=torch.float32))


@torch.library.custom_op(f"{_LIB}::attention_backward", mutates_args=())
def attention_backward(grad: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       causal: bool, scale: Optional[float],
                       output: Optional[torch.Tensor] = None, lse: Optional[torch.Tensor] = None
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dq, dk, dv) of attention for the output gradient ``grad``; with the
    forward's ``output`` and ``lse`` (attention_lse) the weights come from
    them instead of a recomputed forward."""
    out = _xrt_ops.attention_backward(to_xrt(grad), to_xrt(q), to_xrt(k), to_xrt(v), causal,
                                      scale, output=to_xrt(output), lse=to_xrt(lse),
                                      stream=stream_for(q))
    return tuple(to_torch(t) for t in out)


@attention_backward.register_fake
def _(grad, q, k, v, causal, scale, output=None, lse=None):
    return tuple(_empty_in_axis_order_of(x, x.shape) for x in (q, k, v))


def _attention_setup(ctx, inputs, output):
    q, k, v, causal, scale = inputs
    ctx.save_for_backward(q, k, v)
    ctx.causal = causal
    ctx.scale = scale


def _attention_grad(ctx, grad):
    q, k, v = ctx.saved_tensors
    dq, dk, dv = attention_backward(grad, q, k, v, ctx.causal, ctx.scale)
    return dq, dk, dv, None, None


attention.register_autograd(_attention_grad, setup_context=_attention_setup)


def _attention_lse_setup(ctx, inputs, output):
    q, k, v, causal, scale = inputs
    out, lse = output
    ctx.mark_non_differentiable(lse)
    ctx.save_for_backward(q, k, v, out, lse)
    ctx.causal = causal
    ctx.scale = scale


def _attention_lse_grad(ctx, grad, _grad_lse):
    q, k, v, out, lse = ctx.saved_tensors
    dq, dk, dv = attention_backward(grad, q, k, v, ctx.causal, ctx.scale, out, lse)
    return dq, dk, dv, None, None


attention_lse.register_autograd(_attention_lse_grad, setup_context=_attention_lse_setup)
