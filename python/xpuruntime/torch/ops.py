"""``torch.ops.xpuruntime.*``: xpuruntime's kernels as torch custom ops, with
autograd formulas that call the backward kernels and fake implementations
that let ``torch.compile`` trace them without graph breaks. Eager code
reaches the same kernels faster through :mod:`xpuruntime.torch.functional`,
which calls these ops only while torch.compile traces."""

from typing import Optional

import torch

from . import _calls, _formulas

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
    return _calls.layer_norm(x, weight, bias, eps)


@layer_norm.register_fake
def _(x, weight, bias, eps):
    return _empty_like_contiguous(x)


@torch.library.custom_op(f"{_LIB}::layer_norm_backward", mutates_args=())
def layer_norm_backward(grad: torch.Tensor, x: torch.Tensor, weight: Optional[torch.Tensor],
                        eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dweight, dbias) of layer_norm for the output gradient ``grad``."""
    return _calls.layer_norm_backward(grad, x, weight, eps)


@layer_norm_backward.register_fake
def _(grad, x, weight, eps):
    n = x.shape[-1]
    return (_empty_like_contiguous(x), x.new_empty((n,)), x.new_empty((n,)))


layer_norm.register_autograd(_formulas.layer_norm_grad(layer_norm_backward),
                             setup_context=_formulas.layer_norm_setup)


# ---- rms_norm ---------------------------------------------------------------

@torch.library.custom_op(f"{_LIB}::rms_norm", mutates_args=())
def rms_norm(x: torch.Tensor, weight: Optional[torch.Tensor], eps: float) -> torch.Tensor:
    """RMS normalisation over the last axis."""
    return _calls.rms_norm(x, weight, eps)


@rms_norm.register_fake
def _(x, weight, eps):
    return _empty_like_contiguous(x)


@torch.library.custom_op(f"{_LIB}::rms_norm_backward", mutates_args=())
def rms_norm_backward(grad: torch.Tensor, x: torch.Tensor, weight: Optional[torch.Tensor],
                      eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(dx, dweight) of rms_norm for the output gradient ``grad``."""
    return _calls.rms_norm_backward(grad, x, weight, eps)


@rms_norm_backward.register_fake
def _(grad, x, weight, eps):
    return (_empty_like_contiguous(x), x.new_empty((x.shape[-1],)))


rms_norm.register_autograd(_formulas.rms_norm_grad(rms_norm_backward),
                           setup_context=_formulas.rms_norm_setup)


# ---- attention --------------------------------------------------------------

# Masks as xpuruntime.ops.attention takes them: attn_mask bool (True =
# attend) or additive, broadcastable to (batch, heads, Lq, Lk); key_lengths
# int32 (batch,); window_left; causal_align "top_left" or "bottom_right".
# k and v may have fewer heads than q (grouped-query attention).

@torch.library.custom_op(f"{_LIB}::attention", mutates_args=())
def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool,
              scale: Optional[float], attn_mask: Optional[torch.Tensor] = None,
              key_lengths: Optional[torch.Tensor] = None, window_left: Optional[int] = None,
              causal_align: str = "top_left") -> torch.Tensor:
    """Scaled dot-product attention over (batch, heads, seq, head_dim), as
    torch's scaled_dot_product_attention (causal masks top-left aligned
    unless causal_align says otherwise)."""
    return _calls.attention(q, k, v, causal, scale, attn_mask, key_lengths, window_left,
                            causal_align)


@attention.register_fake
def _(q, k, v, causal, scale, attn_mask=None, key_lengths=None, window_left=None,
      causal_align="top_left"):
    return _empty_in_axis_order_of(q, (*q.shape[:-1], v.shape[-1]))


@torch.library.custom_op(f"{_LIB}::attention_lse", mutates_args=())
def attention_lse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool,
                  scale: Optional[float], attn_mask: Optional[torch.Tensor] = None,
                  key_lengths: Optional[torch.Tensor] = None, window_left: Optional[int] = None,
                  causal_align: str = "top_left") -> tuple[torch.Tensor, torch.Tensor]:
    """attention's output and the float32 log-sum-exp of each query's scores,
    (batch, heads, seq); the backward takes both instead of recomputing the
    forward, which is what training wants."""
    return _calls.attention_lse(q, k, v, causal, scale, attn_mask, key_lengths, window_left,
                                causal_align)


@attention_lse.register_fake
def _(q, k, v, causal, scale, attn_mask=None, key_lengths=None, window_left=None,
      causal_align="top_left"):
    return (_empty_in_axis_order_of(q, (*q.shape[:-1], v.shape[-1])),
            q.new_empty(q.shape[:-1], dtype=torch.float32))


@torch.library.custom_op(f"{_LIB}::attention_backward", mutates_args=())
def attention_backward(grad: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       causal: bool, scale: Optional[float],
                       output: Optional[torch.Tensor] = None, lse: Optional[torch.Tensor] = None,
                       attn_mask: Optional[torch.Tensor] = None,
                       key_lengths: Optional[torch.Tensor] = None,
                       window_left: Optional[int] = None, causal_align: str = "top_left"
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dq, dk, dv) of attention for the output gradient ``grad``; with the
    forward's ``output`` and ``lse`` (attention_lse) the weights come from
    them instead of a recomputed forward."""
    return _calls.attention_backward(grad, q, k, v, causal, scale, output, lse, attn_mask,
                                     key_lengths, window_left, causal_align)


@attention_backward.register_fake
def _(grad, q, k, v, causal, scale, output=None, lse=None, attn_mask=None, key_lengths=None,
      window_left=None, causal_align="top_left"):
    return tuple(_empty_in_axis_order_of(x, x.shape) for x in (q, k, v))


attention.register_autograd(_formulas.attention_grad(attention_backward),
                            setup_context=_formulas.attention_setup)
attention_lse.register_autograd(_formulas.attention_lse_grad(attention_backward),
                                setup_context=_formulas.attention_lse_setup)


# ---- packed sequences and decoding ---------------------------------------------

@torch.library.custom_op(f"{_LIB}::attention_varlen", mutates_args=())
def attention_varlen(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     cu_seqlens_q: torch.Tensor, cu_seqlens_k: torch.Tensor,
                     max_seqlen_q: Optional[int], max_seqlen_k: Optional[int], causal: bool,
                     scale: Optional[float], window_left: Optional[int] = None,
                     causal_align: str = "top_left") -> tuple[torch.Tensor, torch.Tensor]:
    """Attention over packed sequences (xpuruntime.ops.attention_varlen): the
    output (total_q, heads, head_dim_v) and the float32 lse (heads, total_q)."""
    return _calls.attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q,
                                   max_seqlen_k, causal, scale, window_left, causal_align)


@attention_varlen.register_fake
def _(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, causal, scale,
      window_left=None, causal_align="top_left"):
    return (q.new_empty((*q.shape[:-1], v.shape[-1])),
            q.new_empty((q.shape[1], q.shape[0]), dtype=torch.float32))


@torch.library.custom_op(f"{_LIB}::attention_varlen_backward", mutates_args=())
def attention_varlen_backward(grad: torch.Tensor, q: torch.Tensor, k: torch.Tensor,
                              v: torch.Tensor, cu_seqlens_q: torch.Tensor,
                              cu_seqlens_k: torch.Tensor, max_seqlen_q: Optional[int],
                              max_seqlen_k: Optional[int], causal: bool, scale: Optional[float],
                              output: torch.Tensor, lse: torch.Tensor,
                              window_left: Optional[int] = None, causal_align: str = "top_left"
                              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dq, dk, dv) of attention_varlen, packed like q, k, v."""
    return _calls.attention_varlen_backward(grad, q, k, v, cu_seqlens_q, cu_seqlens_k,
                                            max_seqlen_q, max_seqlen_k, causal, scale, output,
                                            lse, window_left, causal_align)


@attention_varlen_backward.register_fake
def _(grad, q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, causal, scale,
      output, lse, window_left=None, causal_align="top_left"):
    return tuple(_empty_like_contiguous(x) for x in (q, k, v))


attention_varlen.register_autograd(_formulas.attention_varlen_grad(attention_varlen_backward),
                                   setup_context=_formulas.attention_varlen_setup)


@torch.library.custom_op(f"{_LIB}::attention_decode", mutates_args=())
def attention_decode(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                     cache_seqlens: torch.Tensor, block_table: Optional[torch.Tensor],
                     scale: Optional[float], causal: bool = True,
                     window_left: Optional[int] = None) -> torch.Tensor:
    """New queries against a contiguous or paged KV cache
    (xpuruntime.ops.attention_decode); forward only."""
    return _calls.attention_decode(q, k_cache, v_cache, cache_seqlens, block_table, scale, causal,
                                   window_left)


@attention_decode.register_fake
def _(q, k_cache, v_cache, cache_seqlens, block_table, scale, causal=True, window_left=None):
    return q.new_empty((*q.shape[:-1], v_cache.shape[-1]))


@torch.library.custom_op(f"{_LIB}::kv_cache_append", mutates_args=("k_cache", "v_cache"))
def kv_cache_append(k_cache: torch.Tensor, v_cache: torch.Tensor, k: torch.Tensor,
                    v: torch.Tensor, cache_seqlens: torch.Tensor,
                    block_table: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Writes k and v into the caches in place (xpuruntime.ops.kv_cache_append)
    and returns cache_seqlens + new_len."""
    return _calls.kv_cache_append(k_cache, v_cache, k, v, cache_seqlens, block_table)


@kv_cache_append.register_fake
def _(k_cache, v_cache, k, v, cache_seqlens, block_table=None):
    return torch.empty_like(cache_seqlens)
