"""xpuruntime's ops as functions of torch tensors, differentiable, for
eager code and torch.compile alike:

    import xpuruntime.torch.functional as XF
    y = XF.layer_norm(x, weight, bias, 1e-5)
    out = XF.attention(q, k, v, causal=True)

Eagerly they run as torch.autograd.Functions over the kernels (or as plain
calls when no gradient is wanted), which costs a fraction of a trip
through torch's dispatcher into a Python custom op: small kernels launch
faster than that trip takes. While torch.compile traces, and for tensor
subclasses (fake tensors, tensor-parallel wrappers) or devices the
kernels do not run on, they call ``torch.ops.xpuruntime.*``, which
torch's dispatcher and tracers understand. Both ways run the same kernels
and the same autograd formulas."""

from typing import Optional

import torch
from torch.autograd.function import once_differentiable

from . import _calls, _formulas
from . import ops as _ops

_PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)
_KERNEL_DEVICES = ("cpu", "cuda")


def _eager(*tensors) -> bool:
    """Whether the call can skip torch's dispatcher: not tracing, and only
    plain tensors (or None) on devices xpuruntime runs kernels on."""
    if torch.compiler.is_compiling():
        return False
    return all(t is None or (type(t) in _PLAIN_TYPES and t.device.type in _KERNEL_DEVICES)
               for t in tensors)


def _wants_grad(*tensors) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _function(name, call, setup, grad_of):
    """A torch.autograd.Function running ``call`` with the given formulas.
    Its forward takes ctx itself: a separate setup_context would make every
    apply bind the arguments by signature, which costs more than the
    kernel call. The backward is not itself differentiable (nor are the
    custom ops' backward ops): under create_graph=True it goes through
    once_differentiable, so a second derivative fails loudly; otherwise it
    skips that wrapper's cost."""
    strict = once_differentiable(grad_of)

    def forward(ctx, *inputs):
        output = call(*inputs)
        setup(ctx, inputs, output)
        return output

    def backward(ctx, *grads):
        return (strict if torch.is_grad_enabled() else grad_of)(ctx, *grads)

    return type(name, (torch.autograd.Function,), {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
    })


_LayerNorm = _function("LayerNorm", _calls.layer_norm, _formulas.layer_norm_setup,
                       _formulas.layer_norm_grad(_calls.layer_norm_backward))
_RMSNorm = _function("RMSNorm", _calls.rms_norm, _formulas.rms_norm_setup,
                     _formulas.rms_norm_grad(_calls.rms_norm_backward))
_AttentionLse = _function("AttentionLse", _calls.attention_lse, _formulas.attention_lse_setup,
                          _formulas.attention_lse_grad(_calls.attention_backward))


def layer_norm(x: torch.Tensor, weight: Optional[torch.Tensor] = None,
               bias: Optional[torch.Tensor] = None, eps: float = 1e-5) -> torch.Tensor:
    """Layer normalisation over the last axis (``torch.ops.xpuruntime.layer_norm``)."""
    if not _eager(x, weight, bias):
        return _ops.layer_norm(x, weight, bias, eps)
    if _wants_grad(x, weight, bias):
        return _LayerNorm.apply(x, weight, bias, eps)
    return _calls.layer_norm(x, weight, bias, eps)


def rms_norm(x: torch.Tensor, weight: Optional[torch.Tensor] = None,
             eps: float = 1e-6) -> torch.Tensor:
    """RMS normalisation over the last axis (``torch.ops.xpuruntime.rms_norm``)."""
    if not _eager(x, weight):
        return _ops.rms_norm(x, weight, eps)
    if _wants_grad(x, weight):
        return _RMSNorm.apply(x, weight, eps)
    return _calls.rms_norm(x, weight, eps)


def attention_lse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
                  scale: Optional[float] = None, *, attn_mask: Optional[torch.Tensor] = None,
                  key_lengths: Optional[torch.Tensor] = None, window_left: Optional[int] = None,
                  causal_align: str = "top_left") -> tuple[torch.Tensor, torch.Tensor]:
    """Attention's output over (batch, heads, seq, head_dim) and the float32
    log-sum-exp of each query's scores (``torch.ops.xpuruntime.attention_lse``);
    the backward reuses both instead of recomputing the forward. Masks and
    grouped heads as :func:`attention`."""
    args = (q, k, v, causal, scale, attn_mask, key_lengths, window_left, causal_align)
    if not _eager(q, k, v, attn_mask, key_lengths):
        return _ops.attention_lse(*args)
    if _wants_grad(q, k, v):
        return _AttentionLse.apply(*args)
    return _calls.attention_lse(*args)


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
    masks = dict(attn_mask=attn_mask, key_lengths=key_lengths, window_left=window_left,
                 causal_align=causal_align)
    if _wants_grad(q, k, v):
        return attention_lse(q, k, v, causal, scale, **masks)[0]
    if not _eager(q, k, v, attn_mask, key_lengths):
        return _ops.attention(q, k, v, causal, scale, *masks.values())
    return _calls.attention(q, k, v, causal, scale, *masks.values())
