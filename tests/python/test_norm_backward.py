"""layer_norm_backward and rms_norm_backward on the CPU, against a float64
closed form that is itself checked against torch's autograd."""
import numpy as np
import pytest
import reference as ref
from reference import FLOAT_DTYPES

import xpuruntime as xrt
from xpuruntime import ops

SHAPES = [(1, 1), (3, 7), (2, 5, 33), (4, 1000)]


# A width-1 row's gradient is proportional to eps / (x^2 + eps): with a tiny
# eps it is far below what half types can hold, so the tests use a large one.
EPS = 1e-2
# Parameter gradients sum over rows, so half types are compared by norm.
RELATIVE = {"float64": 1e-12, "float32": 1e-5, "float16": 5e-3, "bfloat16": 2e-2}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("with_weight", [True, False])
def test_layer_norm_backward(rng, dtype, shape, with_weight):
    x, x64 = ref.random(rng, shape, dtype)
    g, g64 = ref.random(rng, shape, dtype)
    w, w64 = ref.random(rng, shape[-1:], dtype) if with_weight else (None, None)
    got = ops.layer_norm_backward(g, x, w, eps=EPS)
    expected = ref.norm_backward(g64, x64, w64, eps=EPS, centred=True)
    assert len(got) == 3
    for tensor, want in zip(got, expected):
        assert tensor.dtype == np.dtype(x.dtype) and tensor.shape == want.shape
        ref.check_by_norm(tensor, want, RELATIVE[np.dtype(dtype).name])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_rms_norm_backward(rng, dtype, shape):
    x, x64 = ref.random(rng, shape, dtype)
    g, g64 = ref.random(rng, shape, dtype)
    w, w64 = ref.random(rng, shape[-1:], dtype)
    got = ops.rms_norm_backward(g, x, w, eps=EPS)
    expected = ref.norm_backward(g64, x64, w64, eps=EPS, centred=False)
    assert len(got) == 2
    for tensor, want in zip(got, expected):
        ref.check_by_norm(tensor, want, RELATIVE[np.dtype(dtype).name])


def test_reference_matches_torch_autograd(rng):
    torch = pytest.importorskip("torch")
    x, g, w, b = (rng.standard_normal(s) for s in [(6, 40), (6, 40), (40,), (40,)])
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    torch.nn.functional.layer_norm(tx, (40,), tw, tb, 1e-5).backward(torch.tensor(g))
    dx, dw, db = ref.norm_backward(g, x, w, eps=1e-5, centred=True)
    for got, want in [(dx, tx.grad), (dw, tw.grad), (db, tb.grad)]:
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)
    tx.grad = tw.grad = None
    (torch.rsqrt((tx * tx).mean(-1, keepdim=True) + 1e-6) * tx * tw).backward(torch.tensor(g))
    dx, dw = ref.norm_backward(g, x, w, eps=1e-6, centred=False)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_empty_rows_give_zero_parameter_gradients():
    x = np.zeros((0, 8), np.float32)
    dx, dw, db = ops.layer_norm_backward(x, x)
    assert dx.shape == (0, 8) and dw.shape == (8,)
    assert not dw.numpy().any() and not db.numpy().any()


def test_bad_operands_are_named():
    x = np.ones((2, 4), np.float32)
    with pytest.raises(xrt.InvalidArgument, match=r"grad has shape \(2, 3\)"):
        ops.layer_norm_backward(np.ones((2, 3), np.float32), x)
    with pytest.raises(xrt.InvalidArgument, match=r"weight has shape \(3,\)"):
        ops.rms_norm_backward(x, x, np.ones(3, np.float32))
    with pytest.raises(xrt.InvalidArgument, match="has 3 outputs"):
        ops.run("layer_norm_backward", x, x)
