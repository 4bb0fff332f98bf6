"""The fused ops' CUDA kernels against float64 references, outputs poisoned
first: add_layer_norm / add_rms_norm (and the sum they return), their
backward with and without the sum's own gradient, bias_gelu and its
backward."""
import math

import numpy as np
import pytest
import reference as ref
from cuda_util import GPU_FLOATS, check, check_norm, poison_pool, random, values

from xpuruntime import ops

pytestmark = pytest.mark.gpu

# Row lengths that take the in-register kernels (multiples of a 16-byte
# pack, up to several packs a thread) and the generic ones (odd lengths).
SHAPES = [(5, 1), (5, 3), (37, 1000), (5, 4097), (2, 3, 129), (64, 4096), (16, 8192)]
BACKWARD_EPS = 1e-2  # see test_cuda_ops: keeps width-1 rows clear of cancellation
SUM_TOLERANCE = {"float32": 2e-5, "float16": 1e-2, "bfloat16": 1e-2}


def _rounded_sum(a64, b64, dtype):
    return (a64 + b64).astype(np.dtype(dtype)).astype(np.float64)


def _gelu_grad(v):
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(v / math.sqrt(2.0)))
    return cdf + v * np.exp(-0.5 * v * v) / math.sqrt(2.0 * math.pi)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("centred", [True, False], ids=["layer_norm", "rms_norm"])
def test_add_norm(rng, dtype, shape, centred):
    x, x64 = random(rng, shape, dtype)
    r, r64 = random(rng, shape, dtype)
    w, w64 = random(rng, shape[-1], dtype)
    b, b64 = random(rng, shape[-1], dtype)
    s64 = _rounded_sum(x64, r64, dtype)
    poison_pool((shape, dtype), (shape, dtype))
    if centred:
        out, total = ops.run("add_layer_norm", x, r, w, b, num_outputs=2)
        want = ref.layer_norm(s64, w64, b64)
    else:
        out, total = ops.run("add_rms_norm", x, r, w, num_outputs=2)
        want = ref.rms_norm(s64, w64)
    np.testing.assert_array_equal(values(total, dtype, shape), s64)
    check(out, want, dtype)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("centred", [True, False], ids=["layer_norm", "rms_norm"])
@pytest.mark.parametrize("with_grad_sum", [True, False])
def test_add_norm_backward(rng, dtype, shape, centred, with_grad_sum):
    n = shape[-1]
    g, g64 = random(rng, shape, dtype)
    s, s64 = random(rng, shape, dtype)
    gs, gs64 = random(rng, shape, dtype) if with_grad_sum else (None, 0.0)
    w, w64 = random(rng, n, dtype)
    outputs = [(shape, dtype), ((n,), dtype)] + ([((n,), dtype)] if centred else [])
    poison_pool(*outputs)
    name = "add_layer_norm_backward" if centred else "add_rms_norm_backward"
    got = ops.run(name, g, s, w, gs, eps=BACKWARD_EPS, num_outputs=len(outputs))
    want = ref.norm_backward(g64, s64, w64, BACKWARD_EPS, centred=centred)
    check(got[0], want[0] + gs64, dtype)
    for tensor, expected in zip(got[1:], want[1:]):
        check_norm(tensor, expected, dtype, SUM_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_bias_gelu(rng, dtype, shape):
    x, x64 = random(rng, shape, dtype)
    b, b64 = random(rng, shape[-1], dtype)
    poison_pool((shape, dtype))
    check(ops.run("bias_gelu", x, b), ref.gelu(_rounded_sum(x64, b64, dtype)), dtype)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_bias_gelu_backward(rng, dtype, shape):
    n = shape[-1]
    g, g64 = random(rng, shape, dtype)
    x, x64 = random(rng, shape, dtype)
    b, b64 = random(rng, n, dtype)
    poison_pool((shape, dtype), ((n,), dtype))
    dx, dbias = ops.run("bias_gelu_backward", g, x, b, num_outputs=2)
    want_dx = g64 * _gelu_grad(_rounded_sum(x64, b64, dtype))
    check_norm(dx, want_dx, dtype, SUM_TOLERANCE[dtype])
    check_norm(dbias, want_dx.reshape(-1, n).sum(axis=0), dtype, SUM_TOLERANCE[dtype])


def test_empty_rows_give_zero_parameter_gradients():
    x, _ = random(np.random.default_rng(0), (0, 64), "float32")
    w, _ = random(np.random.default_rng(1), 64, "float32")
    _, dbias = ops.run("bias_gelu_backward", x, x, w, num_outputs=2)
    np.testing.assert_array_equal(dbias.numpy(), np.zeros(64, np.float32))
    _, dw, db = ops.run("add_layer_norm_backward", x, x, w, None, num_outputs=3)
    np.testing.assert_array_equal(dw.numpy(), np.zeros(64, np.float32))
