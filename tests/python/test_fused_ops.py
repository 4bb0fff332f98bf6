"""The fused ops a transformer block uses, on the CPU, against float64
references: add_layer_norm / add_rms_norm (a residual add inside the norm,
returning the sum too), bias_gelu, and their backward ops."""
import math

import ml_dtypes
import numpy as np
import pytest
import reference as ref
from reference import FLOAT_DTYPES

import xpuruntime as xrt
from xpuruntime import ops

SHAPES = [(1, 1), (3, 7), (2, 5, 33), (4, 1000)]
EPS = 1e-2  # large enough for width-1 rows in half types (see test_norm_backward)
RELATIVE = {"float64": 1e-12, "float32": 1e-5, "float16": 5e-3, "bfloat16": 2e-2}


def _rounded_sum(a64, b64, dtype):
    """a + b as the dtype holds it (what two separate ops would produce)."""
    return (a64 + b64).astype(np.dtype(dtype)).astype(np.float64)


def _gelu_grad(v):
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(v / math.sqrt(2.0)))
    return cdf + v * np.exp(-0.5 * v * v) / math.sqrt(2.0 * math.pi)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("centred", [True, False], ids=["layer_norm", "rms_norm"])
@pytest.mark.parametrize("with_params", [True, False])
def test_add_norm(rng, dtype, shape, centred, with_params):
    x, x64 = ref.random(rng, shape, dtype)
    r, r64 = ref.random(rng, shape, dtype)
    w, w64 = ref.random(rng, shape[-1:], dtype) if with_params else (None, None)
    b, b64 = ref.random(rng, shape[-1:], dtype) if with_params else (None, None)
    s64 = _rounded_sum(x64, r64, dtype)
    if centred:
        out, total = ops.run("add_layer_norm", x, r, w, b, eps=EPS, num_outputs=2)
        want = ref.layer_norm(s64, w64, b64, eps=EPS)
    else:
        out, total = ops.run("add_rms_norm", x, r, w, eps=EPS, num_outputs=2)
        want = ref.rms_norm(s64, w64, eps=EPS)
    # The sum is exact: the dtype's rounding of the float64 sum.
    np.testing.assert_array_equal(np.asarray(total.numpy(), np.float64), s64)
    ref.check(out, want, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("centred", [True, False], ids=["layer_norm", "rms_norm"])
@pytest.mark.parametrize("with_grad_sum", [True, False])
def test_add_norm_backward(rng, dtype, shape, centred, with_grad_sum):
    s, s64 = ref.random(rng, shape, dtype)
    g, g64 = ref.random(rng, shape, dtype)
    gs, gs64 = ref.random(rng, shape, dtype) if with_grad_sum else (None, None)
    w, w64 = ref.random(rng, shape[-1:], dtype)
    name = "add_layer_norm_backward" if centred else "add_rms_norm_backward"
    got = ops.run(name, g, s, w, gs, eps=EPS, num_outputs=3 if centred else 2)
    want = list(ref.norm_backward(g64, s64, w64, eps=EPS, centred=centred))
    if with_grad_sum:
        want[0] = want[0] + gs64
    for tensor, expected in zip(got, want):
        assert tensor.dtype == np.dtype(s.dtype) and tensor.shape == expected.shape
        ref.check_by_norm(tensor, expected, RELATIVE[np.dtype(dtype).name])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_bias_gelu(rng, dtype, shape):
    x, x64 = ref.random(rng, shape, dtype)
    b, b64 = ref.random(rng, shape[-1:], dtype)
    ref.check(ops.run("bias_gelu", x, b), ref.gelu(_rounded_sum(x64, b64, dtype)), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_bias_gelu_backward(rng, dtype, shape):
    x, x64 = ref.random(rng, shape, dtype)
    b, b64 = ref.random(rng, shape[-1:], dtype)
    g, g64 = ref.random(rng, shape, dtype)
    dx, dbias = ops.run("bias_gelu_backward", g, x, b, num_outputs=2)
    want_dx = g64 * _gelu_grad(_rounded_sum(x64, b64, dtype))
    want_db = want_dx.reshape(-1, shape[-1]).sum(axis=0)
    for tensor, expected in ((dx, want_dx), (dbias, want_db)):
        assert tensor.shape == expected.shape
        ref.check_by_norm(tensor, expected, RELATIVE[np.dtype(dtype).name])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_gelu_tails(dtype):
    """gelu and its derivative elementwise over both tails, where 1 + erf
    cancels for negative inputs: each value within the dtype's relative
    bound of the float64 erfc form; below the dtype's smallest normal
    (float's for bfloat16 and float32), anything as small."""
    x64 = np.concatenate([np.linspace(-14.0, 14.0, 2801), [-40.0, -20.0, 20.0, 40.0]])
    x = x64.astype(np.dtype(dtype))
    x64 = x.astype(np.float64)
    erfc = np.vectorize(math.erfc)(-x64 / math.sqrt(2.0))
    want_gelu = 0.5 * x64 * erfc
    want_grad = 0.5 * erfc + x64 * np.exp(-0.5 * x64 * x64) / math.sqrt(2.0 * math.pi)
    tiny = float(np.finfo(np.float32).tiny if dtype in ("float32", "float64")
                 else ml_dtypes.finfo(np.dtype(dtype)).tiny)
    column, bias = x[:, None], np.zeros(1, np.dtype(dtype))
    dx, _ = ops.run("bias_gelu_backward", np.ones_like(column), column, bias, num_outputs=2)
    results = [(ops.gelu(x), want_gelu), (ops.run("bias_gelu", column, bias), want_gelu),
               (dx, want_grad)]
    for got, want in results:
        got = np.asarray(got.numpy(), np.float64).reshape(-1)
        normal = np.abs(want) >= tiny
        err = np.abs(got - want)[normal] / np.abs(want)[normal]
        assert err.max() <= RELATIVE[dtype], (err.max(), x64[normal][err.argmax()])
        assert np.all(np.abs(got[~normal]) <= tiny)


def test_gelu_grad_reference_matches_torch(rng):
    torch = pytest.importorskip("torch")
    v = rng.standard_normal(50) * 3
    t = torch.tensor(v, requires_grad=True)
    torch.nn.functional.gelu(t).sum().backward()
    np.testing.assert_allclose(_gelu_grad(v), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_empty_rows():
    x = np.zeros((0, 4), np.float32)
    w = np.ones(4, np.float32)
    out, total = ops.run("add_layer_norm", x, x, w, w, num_outputs=2)
    assert out.shape == total.shape == (0, 4)
    dx, db = ops.run("bias_gelu_backward", x, x, w, num_outputs=2)
    assert dx.shape == (0, 4)
    np.testing.assert_array_equal(db.numpy(), np.zeros(4, np.float32))
    ds, dw = ops.run("add_rms_norm_backward", x, x, w, None, num_outputs=2)
    np.testing.assert_array_equal(dw.numpy(), np.zeros(4, np.float32))


def test_strided_inputs_are_read_as_their_values(rng):
    x = rng.standard_normal((6, 8)).astype(np.float32)
    r = rng.standard_normal((8, 6)).astype(np.float32).T  # non-contiguous
    out, total = ops.run("add_rms_norm", x, r, None, eps=1e-6, num_outputs=2)
    np.testing.assert_allclose(total.numpy(), x + r, rtol=0, atol=0)
    ref.check(out, ref.rms_norm((x + r).astype(np.float64)), "float32")


def test_bad_inputs_name_the_argument():
    x = np.ones((2, 4), np.float32)
    with pytest.raises(xrt.InvalidArgument, match=r"add_layer_norm: residual has shape"):
        ops.run("add_layer_norm", x, np.ones((2, 5), np.float32), None, None, num_outputs=2)
    with pytest.raises(xrt.InvalidArgument, match=r"add_rms_norm: weight has shape \(3,\)"):
        ops.run("add_rms_norm", x, x, np.ones(3, np.float32), num_outputs=2)
    with pytest.raises(xrt.InvalidArgument, match=r"bias_gelu: bias has shape \(2,\)"):
        ops.run("bias_gelu", x, np.ones(2, np.float32))
    with pytest.raises(xrt.InvalidArgument, match=r"grad_sum has shape"):
        ops.run("add_layer_norm_backward", x, x, None, np.ones((4, 2), np.float32),
                num_outputs=3)
    with pytest.raises(xrt.InvalidArgument, match=r"eps must be finite"):
        ops.run("add_layer_norm", x, x, None, None, eps=float("nan"), num_outputs=2)
    with pytest.raises(xrt.Unsupported):
        ops.run("bias_gelu", np.ones((2, 4), np.int32), np.ones(4, np.int32))
