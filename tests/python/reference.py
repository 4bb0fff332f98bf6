"""float64 numpy references of the ops, and tolerances per dtype."""

import math

import ml_dtypes
import numpy as np

ALL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64",
              "float16", "bfloat16", "float32", "float64",
              "uint16", "uint32", "uint64",
              "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz"]
FLOAT_DTYPES = ["float16", "bfloat16", "float32", "float64"]

# Results are compared after rounding the inputs to the dtype, so these cover
# the op's own error only: output rounding and accumulation order.
TOLERANCE = {
    "float64": dict(rtol=1e-12, atol=1e-12),
    "float32": dict(rtol=2e-5, atol=2e-5),
    "float16": dict(rtol=1e-2, atol=1e-2),
    "bfloat16": dict(rtol=3e-2, atol=3e-2),
}

_erf = np.vectorize(math.erf, otypes=[np.float64])


def random(rng, shape, dtype):
    """Normal data rounded to dtype, and the same values in float64."""
    data = rng.standard_normal(shape).astype(np.dtype(dtype))
    return data, data.astype(np.float64)


def check(got, expected, dtype):
    got = np.asarray(got.numpy(), dtype=np.float64)
    np.testing.assert_allclose(got, expected, **TOLERANCE[np.dtype(dtype).name])


def check_by_norm(got, expected, relative):
    """Norm-wise error of got against the float64 expected, within `relative`
    of expected's norm. Sums (parameter gradients) are compared this way in
    half types. A value among the dtype's subnormals keeps few bits, so one
    subnormal step per element is allowed on top."""
    dtype = np.dtype(got.dtype)
    got = np.asarray(got.numpy(), dtype=np.float64)
    error = np.linalg.norm(got - expected)
    step = float(ml_dtypes.finfo(dtype).smallest_subnormal)
    allowed = relative * np.linalg.norm(expected) + step * math.sqrt(expected.size)
    assert error <= allowed, f"norm-wise error {error:.3g} over {allowed:.3g} in {dtype}"


def gelu(x):
    return x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def layer_norm(x, weight=None, bias=None, eps=1e-5):
    y = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def rms_norm(x, weight=None, eps=1e-6):
    y = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return y if weight is None else y * weight


def norm_backward(grad, x, weight=None, eps=1e-5, centred=True):
    """Gradients of layer_norm (centred) or rms_norm: dx, dweight and, for
    layer_norm, dbias; reduced over every axis but the last."""
    mean = x.mean(-1, keepdims=True) if centred else 0.0
    rstd = 1.0 / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + eps)
    xhat = (x - mean) * rstd
    g = grad if weight is None else grad * weight
    mean_g = g.mean(-1, keepdims=True) if centred else 0.0
    dx = rstd * (g - mean_g - xhat * (g * xhat).mean(-1, keepdims=True))
    rows = tuple(range(x.ndim - 1))
    dweight = (grad * xhat).sum(axis=rows)
    return (dx, dweight, grad.sum(axis=rows)) if centred else (dx, dweight)


def _scores(q, k, causal, scale):
    """Scaled scores; a causal mask hides key j from query i when j > i
    (top-left aligned, also when Lq != Lk)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        lq, lk = scores.shape[-2:]
        hidden = np.arange(lk)[None, :] > np.arange(lq)[:, None]
        scores = np.where(hidden, -np.inf, scores)
    return scores, scale


def attention(q, k, v, causal=False, scale=None):
    """torch's scaled_dot_product_attention, causal masks top-left aligned."""
    return softmax(_scores(q, k, causal, scale)[0]) @ v



def attention_lse(q, k, v, causal=False, scale=None):
    """The natural log-sum-exp of each query's scaled, masked scores."""
    scores, _ = _scores(q, k, causal, scale)
    top = scores.max(-1, keepdims=True)
    return (top + np.log(np.exp(scores - top).sum(-1, keepdims=True)))[..., 0]


def attention_backward(grad, q, k, v, causal=False, scale=None):
    """Gradients dq, dk, dv of attention for the output gradient grad."""
    scores, scale = _scores(q, k, causal, scale)
    p = softmax(scores)
    dp = grad @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (grad * (p @ v)).sum(-1, keepdims=True))
    dq = ds @ k * scale
    dk = np.swapaxes(ds, -1, -2) @ q * scale
    dv = np.swapaxes(p, -1, -2) @ grad
    return dq, dk, dv

BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
