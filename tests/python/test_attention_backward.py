"""attention_backward on the CPU, against a float64 closed form that is
itself checked against torch's autograd."""
import numpy as np
import pytest
import reference as ref
from reference import FLOAT_DTYPES

import xpuruntime as xrt
from xpuruntime import ops

# (batch, heads, Lq, Lk, D, Dv)
SHAPES = [
    (1, 1, 1, 1, 1, 1),
    (2, 3, 17, 17, 8, 8),
    (2, 3, 33, 33, 8, 8),
    (1, 2, 70, 150, 16, 16),
    (1, 1, 150, 20, 8, 8),
    (2, 1, 40, 40, 12, 5),
    (1, 1, 300, 300, 4, 4),
    (2, 4, 100, 90, 8, 8),
]

# dk and dv sum over queries, so half types are compared by norm.
RELATIVE = {"float64": 1e-12, "float32": 2e-5, "float16": 1e-2, "bfloat16": 3e-2}


def _operands(rng, shape, dtype):
    b, h, lq, lk, d, dv = shape
    shapes = [(b, h, lq, dv), (b, h, lq, d), (b, h, lk, d), (b, h, lk, dv)]
    return zip(*(ref.random(rng, s, dtype) for s in shapes))


def _check(got, expected, dtype):
    assert len(got) == 3
    for tensor, want in zip(got, expected):
        assert tensor.shape == want.shape
        ref.check_by_norm(tensor, want, RELATIVE[np.dtype(dtype).name])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_attention_backward(rng, dtype, shape, causal):
    (g, q, k, v), (g64, q64, k64, v64) = _operands(rng, shape, dtype)
    got = ops.attention_backward(g, q, k, v, causal=causal)
    assert all(t.dtype == np.dtype(q.dtype) for t in got)
    _check(got, ref.attention_backward(g64, q64, k64, v64, causal=causal), dtype)


def test_custom_scale(rng):
    (g, q, k, v), (g64, q64, k64, v64) = _operands(rng, (2, 2, 19, 23, 8, 6), "float64")
    for causal in (False, True):
        got = ops.attention_backward(g, q, k, v, causal=causal, scale=0.3)
        _check(got, ref.attention_backward(g64, q64, k64, v64, causal=causal, scale=0.3),
               "float64")
    with pytest.raises(xrt.InvalidArgument, match="scale must be > 0"):
        ops.attention_backward(g, q, k, v, scale=0.0)


@pytest.mark.parametrize("shape", [(2, 3, 17, 17, 8, 8), (1, 2, 9, 14, 6, 5),
                                   (1, 2, 14, 9, 6, 5)])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_reference_matches_torch_autograd(rng, shape, causal, scale):
    torch = pytest.importorskip("torch")
    (g, q, k, v), _ = _operands(rng, shape, "float64")
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=causal,
                                                           scale=scale)
    out.backward(torch.tensor(g))
    expected = ref.attention_backward(g, q, k, v, causal=causal, scale=scale)
    for got, want in zip(expected, (tq.grad, tk.grad, tv.grad)):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)
    for got, want in zip(ops.attention_backward(g, q, k, v, causal=causal, scale=scale),
                         (tq.grad, tk.grad, tv.grad)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


def test_empty_queries_give_zero_key_gradients():
    q = np.zeros((1, 2, 0, 4), np.float32)
    k = np.ones((1, 2, 5, 4), np.float32)
    v = np.ones((1, 2, 5, 3), np.float32)
    dq, dk, dv = ops.attention_backward(np.zeros((1, 2, 0, 3), np.float32), q, k, v)
    assert dq.shape == (1, 2, 0, 4) and dk.shape == (1, 2, 5, 4) and dv.shape == (1, 2, 5, 3)
    assert not dk.numpy().any() and not dv.numpy().any()


def test_empty_value_dim_gives_zero_gradients():
    q = np.ones((1, 1, 3, 4), np.float32)
    v = np.ones((1, 1, 5, 0), np.float32)
    dq, dk, dv = ops.attention_backward(np.ones((1, 1, 3, 0), np.float32), q,
                                        np.ones((1, 1, 5, 4), np.float32), v)
    assert dv.shape == (1, 1, 5, 0)
    assert not dq.numpy().any() and not dk.numpy().any()


def test_bad_grad_is_named():
    q = np.ones((1, 2, 3, 4), np.float32)
    with pytest.raises(xrt.InvalidArgument, match=r"grad has shape \(1, 2, 3, 5\)"):
        ops.attention_backward(np.ones((1, 2, 3, 5), np.float32), q, q, q)
    with pytest.raises(xrt.InvalidArgument, match="has 3 outputs"):
        ops.run("attention_backward", q, q, q, q)
