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


def attention(q, k, v, causal, scale):
    return to_torch(_xrt_ops.attention(to_xrt(q), to_xrt(k), to_xrt(v), causal, scale,
                                       stream=stream_for(q)))


def attention_lse(q, k, v, causal, scale):
    out, lse = _xrt_ops.attention(to_xrt(q), to_xrt(k), to_xrt(v), causal, scale,
                                  stream=stream_for(q), return_lse=True)
    return to_torch(out), to_torch(lse)


def attention_backward(grad, q, k, v, causal, scale, output=None, lse=None):
    out = _xrt_ops.attention_backward(to_xrt(grad), to_xrt(q), to_xrt(k), to_xrt(v), causal,
                                      scale, output=to_xrt(output), lse=to_xrt(lse),
                                      stream=stream_for(q))
    return tuple(to_torch(t) for t in out)
