"""attention with return_lse=True (op "attention_lse") and attention_backward
given the forward's output and lse, on the CPU, against float64 references."""
import numpy as np
import pytest
import reference as ref
from reference import FLOAT_DTYPES

import xpuruntime as xrt
from xpuruntime import ops

# (batch, heads, Lq, Lk, D, Dv)
SHAPES = [(1, 1, 1, 1, 1, 1), (2, 3, 17, 33, 8, 8), (1, 2, 150, 70, 16, 12)]
OUT_TOL = {"float64": 1e-12, "float32": 2e-5, "float16": 1e-2, "bfloat16": 3e-2}
# The lse is float32 whatever the inputs; half inputs are exact in float.
LSE_TOL = {"float64": 1e-6, "float32": 1e-5, "float16": 1e-5, "bfloat16": 1e-5}
GRAD_TOL = {"float64": 1e-6, "float32": 2e-5, "float16": 1e-2, "bfloat16": 3e-2}


def _operands(rng, shape, dtype):
    b, h, lq, lk, d, dv = shape
    shapes = [(b, h, lq, dv), (b, h, lq, d), (b, h, lk, d), (b, h, lk, dv)]
    return zip(*(ref.random(rng, s, dtype) for s in shapes))


def _relative(got, want):
    got = np.asarray(got.numpy(), np.float64)
    return np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_output_and_lse_match_float64(rng, dtype, shape, causal):
    (_, q, k, v), (_, q64, k64, v64) = _operands(rng, shape, dtype)
    out, lse = ops.attention(q, k, v, causal=causal, return_lse=True)
    assert out.dtype == np.dtype(q.dtype) and lse.dtype == np.float32
    assert lse.shape == shape[:3]
    assert _relative(out, ref.attention(q64, k64, v64, causal=causal)) < OUT_TOL[np.dtype(dtype).name]
    want = ref.attention_lse(q64, k64, v64, causal=causal)
    np.testing.assert_allclose(lse.numpy(), want, rtol=LSE_TOL[np.dtype(dtype).name],
                               atol=LSE_TOL[np.dtype(dtype).name])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_backward_from_output_and_lse(rng, dtype, shape, causal):
    (g, q, k, v), (g64, q64, k64, v64) = _operands(rng, shape, dtype)
    out, lse = ops.attention(q, k, v, causal=causal, scale=0.4, return_lse=True)
    got = ops.attention_backward(g, q, k, v, causal=causal, scale=0.4, output=out, lse=lse)
    want = ref.attention_backward(g64, q64, k64, v64, causal=causal, scale=0.4)
    for tensor, expected in zip(got, want):
        assert tensor.dtype == np.dtype(q.dtype) and tensor.shape == expected.shape
        assert _relative(tensor, expected) < GRAD_TOL[np.dtype(dtype).name]


def test_the_given_lse_is_what_the_weights_come_from(rng):
    # exp(s - (lse + log 2)) halves every weight, so dv = P^T dO halves too.
    (g, q, k, v), _ = _operands(rng, (1, 2, 9, 11, 4, 3), "float64")
    out, lse = ops.attention(q, k, v, return_lse=True)
    _, _, dv = ops.attention_backward(g, q, k, v, output=out, lse=lse)
    shifted = xrt.asarray(lse.numpy() + np.float32(np.log(2.0)))
    _, _, dv_half = ops.attention_backward(g, q, k, v, output=out, lse=shifted)
    np.testing.assert_allclose(dv_half.numpy(), dv.numpy() / 2, rtol=1e-5, atol=1e-7)


def test_bad_output_and_lse_are_named():
    q = np.ones((1, 2, 3, 4), np.float32)
    out, lse = ops.attention(q, q, q, return_lse=True)
    with pytest.raises(xrt.InvalidArgument, match="lse is float16, expected float32"):
        ops.attention_backward(q, q, q, q, output=out, lse=lse.numpy().astype(np.float16))
    with pytest.raises(xrt.InvalidArgument, match="give output and lse together"):
        ops.attention_backward(q, q, q, q, output=out)
    with pytest.raises(xrt.InvalidArgument, match=r"lse has shape \(1, 2, 4\), expected \(1, 2, 3\)"):
        ops.attention_backward(q, q, q, q, output=out, lse=np.zeros((1, 2, 4), np.float32))
    with pytest.raises(xrt.InvalidArgument, match=r"output has shape \(1, 2, 3, 5\)"):
        ops.attention_backward(q, q, q, q, output=np.ones((1, 2, 3, 5), np.float32), lse=lse)
