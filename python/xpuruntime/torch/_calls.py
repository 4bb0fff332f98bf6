"""xpuruntime's ops as plain calls on torch tensors (no autograd): the
custom ops (ops.py) and the eager path (functional.py) both build on
these. Each is a C-level callable (see _bridge): arguments are the op's
inputs (a tensor or None), then its attributes, positionally; the
shape, dtype and device checks happen in the runtime's op schemas."""

from ._bridge import op

_EPS = (("eps", "float"),)
_ATTENTION = (("causal", "int"), ("scale", "scale"))

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

attention = op("attention", ("q", "k", "v"), _ATTENTION)
attention_lse = op("attention_lse", ("q", "k", "v"), _ATTENTION, 2)
_attention_backward = op("attention_backward", ("grad", "q", "k", "v", "output", "lse"),
                         _ATTENTION, 3)


def attention_backward(grad, q, k, v, causal, scale, output=None, lse=None):
    """(dq, dk, dv); output and lse: attention_lse's, or both None to
    recompute the forward."""
    return _attention_backward(grad, q, k, v, output, lse, causal, scale)
