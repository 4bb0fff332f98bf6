"""xpuruntime's ops as plain calls on torch tensors (no autograd): the
custom ops (ops.py) and the eager path (functional.py) both build on
these. Each is a C-level callable (see _bridge): arguments are the op's
inputs (a tensor or None), then its attributes, positionally; the
shape, dtype and device checks happen in the runtime's op schemas."""

import xpuruntime as xrt
from xpuruntime._core import _CAUSAL_ALIGN

from ._bridge import op

_EPS = (("eps", "float"),)
_ATTENTION = (("causal", "bool"), ("scale", "scale"))
# window_left -1: no window; causal_align as _CAUSAL_ALIGN numbers it.
_MASKED = _ATTENTION + (("window_left", "int"), ("causal_align", "int"))
_VARLEN = _MASKED + (("max_seqlen_q", "int"), ("max_seqlen_k", "int"))

layer_norm = op("layer_norm", ("x", "weight", "bias"), _EPS)
layer_norm_backward = op("layer_norm_backward", ("grad", "x", "weight"), _EPS, 3)
rms_norm = op("rms_norm", ("x", "weight"), _EPS)
rms_norm_backward = op("rms_norm_backward", ("grad", "x", "weight"), _EPS, 2)

# (out, sum): the norm of sum = x + residual, and sum itself.
add_layer_norm = op("add_layer_norm", ("x", "residual", "weight", "bias"), _EPS, 2)
add_rms_norm = op("add_rms_norm", ("x", "residual", "weight"), _EPS, 2)
# (dsum, dweight[, dbias]); grad_sum, the gradient reaching sum directly, may be None.
add_layer_norm_backward = op("add_layer_norm_backward", ("grad", "sum", "weight", "grad_sum"),
                             _EPS, 3)
add_rms_norm_backward = op("add_rms_norm_backward", ("grad", "sum", "weight", "grad_sum"),
                           _EPS, 2)

bias_gelu = op("bias_gelu", ("x", "bias"))
bias_gelu_backward = op("bias_gelu_backward", ("grad", "x", "bias"), (), 2)

# Without masks attention takes the fewest arguments: functional.py calls
# these directly, and the torch ops reach them with no mask argument given.
attention = op("attention", ("q", "k", "v"), _ATTENTION)
attention_lse = op("attention_lse", ("q", "k", "v"), _ATTENTION, 2)
_masked_attention = op("attention", ("q", "k", "v", "attn_mask", "key_lengths"), _MASKED)
_masked_attention_lse = op("attention_lse", ("q", "k", "v", "attn_mask", "key_lengths"),
                           _MASKED, 2)
_attention_backward = op("attention_backward", ("grad", "q", "k", "v", "output", "lse",
                                                "attn_mask", "key_lengths"), _MASKED, 3)


def _window(window_left):
    return -1 if window_left is None else window_left


def _align(op_name, causal_align):
    align = _CAUSAL_ALIGN.get(causal_align) if isinstance(causal_align, str) else None
    if align is None:
        raise xrt.InvalidArgument(f"{op_name}: causal_align must be "
                                  f"{' or '.join(map(repr, _CAUSAL_ALIGN))}, "
                                  f"got {causal_align!r}")
    return align


def masked_attention(q, k, v, causal, scale, attn_mask=None, key_lengths=None, window_left=None,
                     causal_align="top_left"):
    """attention with its masks, arguments in the torch op's order."""
    return _masked_attention(q, k, v, attn_mask, key_lengths, causal, scale, _window(window_left),
                             _align("attention", causal_align))


def masked_attention_lse(q, k, v, causal, scale, attn_mask=None, key_lengths=None,
                         window_left=None, causal_align="top_left"):
    """attention_lse with its masks, arguments in the torch op's order."""
    return _masked_attention_lse(q, k, v, attn_mask, key_lengths, causal, scale,
                                 _window(window_left), _align("attention_lse", causal_align))


def attention_op(q, k, v, causal, scale, *masks):
    """The torch op attention's kernel: torch leaves trailing arguments
    that hold their defaults out, so no masks means the plain call."""
    return masked_attention(q, k, v, causal, scale, *masks) if masks else attention(
        q, k, v, causal, scale)


def attention_lse_op(q, k, v, causal, scale, *masks):
    """The torch op attention_lse's kernel, as attention_op."""
    return masked_attention_lse(q, k, v, causal, scale, *masks) if masks else attention_lse(
        q, k, v, causal, scale)


def attention_backward(grad, q, k, v, causal, scale, output=None, lse=None, attn_mask=None,
                       key_lengths=None, window_left=None, causal_align="top_left"):
    """(dq, dk, dv); output and lse: attention_lse's, or both None to
    recompute the forward."""
    return _attention_backward(grad, q, k, v, output, lse, attn_mask, key_lengths, causal, scale,
                               _window(window_left), _align("attention_backward", causal_align))


_attention_varlen = op("attention_varlen_lse",
                       ("q", "k", "v", "cu_seqlens_q", "cu_seqlens_k"), _VARLEN, 2)
_attention_varlen_backward = op("attention_varlen_backward",
                                ("grad", "q", "k", "v", "cu_seqlens_q", "cu_seqlens_k", "output",
                                 "lse"), _VARLEN, 3)


def _max_seqlen(value):
    return -1 if value is None else value


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, causal,
                     scale, window_left=None, causal_align="top_left"):
    """(out, lse) of packed sequences; max_seqlen_* None: unbounded."""
    return _attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, causal, scale,
                             _window(window_left), _align("attention_varlen", causal_align),
                             _max_seqlen(max_seqlen_q), _max_seqlen(max_seqlen_k))


def attention_varlen_backward(grad, q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q,
                              max_seqlen_k, causal, scale, output, lse, window_left=None,
                              causal_align="top_left"):
    """(dq, dk, dv) of attention_varlen, packed like q, k, v."""
    return _attention_varlen_backward(
        grad, q, k, v, cu_seqlens_q, cu_seqlens_k, output, lse, causal, scale,
        _window(window_left), _align("attention_varlen_backward", causal_align),
        _max_seqlen(max_seqlen_q), _max_seqlen(max_seqlen_k))


_attention_decode = op("attention_decode",
                       ("q", "k_cache", "v_cache", "cache_seqlens", "block_table"),
                       (("causal", "bool"), ("scale", "scale"), ("window_left", "int")))


def attention_decode(q, k_cache, v_cache, cache_seqlens, block_table, scale, causal=True,
                     window_left=None):
    """New queries against a KV cache (causal: bottom-right aligned)."""
    return _attention_decode(q, k_cache, v_cache, cache_seqlens, block_table, causal, scale,
                             _window(window_left))


_kv_cache_append = op("kv_cache_append",
                      ("k_cache", "v_cache", "k", "v", "cache_seqlens", "block_table"))


def kv_cache_append(k_cache, v_cache, k, v, cache_seqlens, block_table=None):
    """Writes k and v into the caches in place (they cross over without a
    copy, so the kernel writes torch's memory); returns the new lengths."""
    return _kv_cache_append(k_cache, v_cache, k, v, cache_seqlens, block_table)
