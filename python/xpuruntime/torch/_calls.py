"""xpuruntime's kernels called on torch tensors: inputs cross over through
DLPack, results come back the same way, and on CUDA the kernels run on
torch's current stream. No autograd here: the custom ops (ops.py) and the
eager path (functional.py) both build on these calls."""

from xpuruntime import ops as _xrt_ops

from ._bridge import stream_for, to_torch, to_xrt


def layer_norm(x, weight, bias, eps):
    return to_torch(_xrt_ops.layer_norm(to_xrt(x), to_xrt(weight), to_xrt(bias), eps,
                                        stream=stream_for(x)))


def layer_norm_backward(grad, x, weight, eps):
    out = _xrt_ops.layer_norm_backward(to_xrt(grad), to_xrt(x), to_xrt(weight), eps,
                                       stream=stream_for(x))
    return tuple(to_torch(t) for t in out)


def rms_norm(x, weight, eps):
    return to_torch(_xrt_ops.rms_norm(to_xrt(x), to_xrt(weight), eps, stream=stream_for(x)))


def rms_norm_backward(grad, x, weight, eps):
    out = _xrt_ops.rms_norm_backward(to_xrt(grad), to_xrt(x), to_xrt(weight), eps,
                                     stream=stream_for(x))
    return tuple(to_torch(t) for t in out)


def _masks(attn_mask, key_lengths, window_left, causal_align):
    return dict(attn_mask=to_xrt(attn_mask), key_lengths=to_xrt(key_lengths),
                window_left=window_left, causal_align=causal_align)


def attention(q, k, v, causal, scale, attn_mask=None, key_lengths=None, window_left=None,
              causal_align="top_left"):
    return to_torch(_xrt_ops.attention(to_xrt(q), to_xrt(k), to_xrt(v), causal, scale,
                                       stream=stream_for(q),
                                       **_masks(attn_mask, key_lengths, window_left, causal_align)))


def attention_lse(q, k, v, causal, scale, attn_mask=None, key_lengths=None, window_left=None,
                  causal_align="top_left"):
    out, lse = _xrt_ops.attention(to_xrt(q), to_xrt(k), to_xrt(v), causal, scale,
                                  stream=stream_for(q), return_lse=True,
                                  **_masks(attn_mask, key_lengths, window_left, causal_align))
    return to_torch(out), to_torch(lse)


def attention_backward(grad, q, k, v, causal, scale, output=None, lse=None, attn_mask=None,
                       key_lengths=None, window_left=None, causal_align="top_left"):
    out = _xrt_ops.attention_backward(to_xrt(grad), to_xrt(q), to_xrt(k), to_xrt(v), causal,
                                      scale, output=to_xrt(output), lse=to_xrt(lse),
                                      stream=stream_for(q),
                                      **_masks(attn_mask, key_lengths, window_left, causal_align))
    return tuple(to_torch(t) for t in out)


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, causal,
                     scale, window_left=None, causal_align="top_left"):
    out, lse = _xrt_ops.attention_varlen(
        to_xrt(q), to_xrt(k), to_xrt(v), to_xrt(cu_seqlens_q), to_xrt(cu_seqlens_k),
        max_seqlen_q, max_seqlen_k, causal, scale, window_left=window_left,
        causal_align=causal_align, stream=stream_for(q), return_lse=True)
    return to_torch(out), to_torch(lse)


def attention_varlen_backward(grad, q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q,
                              max_seqlen_k, causal, scale, output, lse, window_left=None,
                              causal_align="top_left"):
    out = _xrt_ops.attention_varlen_backward(
        to_xrt(grad), to_xrt(q), to_xrt(k), to_xrt(v), to_xrt(cu_seqlens_q),
        to_xrt(cu_seqlens_k), max_seqlen_q, max_seqlen_k, causal, scale, output=to_xrt(output),
        lse=to_xrt(lse), window_left=window_left, causal_align=causal_align,
        stream=stream_for(q))
    return tuple(to_torch(t) for t in out)


def attention_decode(q, k_cache, v_cache, cache_seqlens, block_table, scale, causal,
                     window_left):
    return to_torch(_xrt_ops.attention_decode(
        to_xrt(q), to_xrt(k_cache), to_xrt(v_cache), to_xrt(cache_seqlens), to_xrt(block_table),
        scale, causal=causal, window_left=window_left, stream=stream_for(q)))


def kv_cache_append(k_cache, v_cache, k, v, cache_seqlens, block_table):
    # The caches cross over without a copy, so the kernel writes torch's memory.
    return to_torch(_xrt_ops.kv_cache_append(
        to_xrt(k_cache), to_xrt(v_cache), to_xrt(k), to_xrt(v), to_xrt(cache_seqlens),
        to_xrt(block_table), stream=stream_for(k)))
