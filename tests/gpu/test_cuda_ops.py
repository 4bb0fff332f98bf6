"""CUDA kernels against float64 references, on sizes that are no multiple of any tile."""

import numpy as np
import pytest
import reference as ref
from cuda_util import (DEVICE, GPU_FLOATS, check, check_norm, float64, poison_pool, random, torch,
                       torch_tensor)

import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu

SHAPES = [(1, 1), (3, 7), (37, 1000), (5, 4097), (2, 3, 129), (1, 1, 17)]
ADD_DTYPES = GPU_FLOATS + ["float64"]
# matmul sums k products, so it is judged by the relative error of the whole result.
MATMUL_TOLERANCE = {"float32": 1e-4, "float16": 1e-2, "bfloat16": 3e-2}
TF32_TOLERANCE = 3e-3


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (3, 7, 5), (37, 1000, 33), (5, 4097, 3),
                                     (1, 129, 4097)])
def test_matmul(rng, dtype, m, k, n):
    a, a64 = random(rng, (m, k), dtype)
    b, b64 = random(rng, (k, n), dtype)
    poison_pool(((m, n), dtype))
    check_norm(ops.matmul(a, b), a64 @ b64, dtype, MATMUL_TOLERANCE[dtype])


# Half a unit in the last place of each 16-bit format, relative.
HALF_ULP = {"float16": 2.0**-11, "bfloat16": 2.0**-8}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("m, k, n", [(5, 4097, 3), (8, 16384, 8), (64, 8192, 64)])
def test_long_sums_round_once(rng, dtype, m, k, n):
    """Shapes where cuBLASLt splits k: every element must be the float32 sum
    rounded once to the output type, so partial sums may not be rounded to
    16 bits on the way."""
    a, a64 = random(rng, (m, k), dtype)
    b, b64 = random(rng, (k, n), dtype)
    expected = a64 @ b64
    got = ops.matmul(a, b).numpy().astype(np.float64)
    rms = np.sqrt(np.mean(expected**2))
    bound = HALF_ULP[dtype] * np.abs(expected) * 1.01 + 1e-5 * rms
    worst = np.max(np.abs(got - expected) - bound)
    assert worst <= 0, f"an element is off by {worst:.3g} beyond one rounding (rms {rms:.3g})"


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("a_shape, b_shape", [
    ((1, 9, 33), (33, 7)),           # batch of one
    ((2, 3, 9, 33), (2, 3, 33, 7)),  # matching batches
    ((2, 1, 9, 33), (3, 33, 7)),     # both broadcast
    ((9, 33), (4, 33, 7)),           # a shared by every product
    ((5, 9, 33), (33, 7)),           # b shared by every product
])
def test_batched_matmul(rng, dtype, a_shape, b_shape):
    a, a64 = random(rng, a_shape, dtype)
    b, b64 = random(rng, b_shape, dtype)
    check_norm(ops.matmul(a, b), a64 @ b64, dtype, MATMUL_TOLERANCE[dtype])


@pytest.mark.parametrize("a_shape, b_shape", [((33,), (33, 7)), ((9, 33), (33,)),
                                              ((33,), (33,)), ((3, 9, 33), (33,))])
def test_matmul_with_vectors(rng, a_shape, b_shape):
    a, a64 = random(rng, a_shape, "float32")
    b, b64 = random(rng, b_shape, "float32")
    check_norm(ops.matmul(a, b), a64 @ b64, "float32", MATMUL_TOLERANCE["float32"])


@pytest.mark.parametrize("dtype", GPU_FLOATS)
def test_matmul_over_an_empty_inner_dimension_gives_zeros(dtype):
    a = xrt.zeros((2, 3, 0), dtype, DEVICE)
    b = xrt.zeros((0, 4), dtype, DEVICE)
    poison_pool(((2, 3, 4), dtype))
    check(ops.matmul(a, b), np.zeros((2, 3, 4)), dtype)


def test_matmul_with_tf32(rng):
    a, a64 = random(rng, (37, 1000), "float32")
    b, b64 = random(rng, (1000, 65), "float32")
    check_norm(ops.matmul(a, b, allow_tf32=True), a64 @ b64, "float32", TF32_TOLERANCE)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
def test_matmul_agrees_with_torch(rng, dtype):
    a, a64 = random(rng, (3, 37, 1000), dtype)
    b, b64 = random(rng, (1000, 65), dtype)
    expected = float64(torch.matmul(torch_tensor(a64, dtype), torch_tensor(b64, dtype)))
    check_norm(ops.matmul(a, b), expected, dtype, MATMUL_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", GPU_FLOATS)
def test_matmul_of_transposed_operands(rng, dtype):
    _, a64 = ref.random(rng, (1000, 37), dtype)
    _, b64 = ref.random(rng, (65, 1000), dtype)
    a = xrt.from_dlpack(torch_tensor(a64, dtype).T)
    b = xrt.from_dlpack(torch_tensor(b64, dtype).T)
    assert a.strides == (1, 37) and b.strides == (1, 1000)
    check_norm(ops.matmul(a, b), a64.T @ b64.T, dtype, MATMUL_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ADD_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_add(rng, dtype, shape):
    a, a64 = random(rng, shape, dtype)
    b, b64 = random(rng, shape, dtype)
    poison_pool((shape, dtype))
    check(ops.add(a, b), a64 + b64, dtype)


@pytest.mark.parametrize("dtype", ADD_DTYPES)
@pytest.mark.parametrize("a_shape, b_shape", [((4, 1, 6), (5, 1)), ((37, 1000), (1000,)),
                                              ((1,), (3, 7)), ((2, 3, 129), (3, 1))])
def test_add_broadcasts(rng, dtype, a_shape, b_shape):
    a, a64 = random(rng, a_shape, dtype)
    b, b64 = random(rng, b_shape, dtype)
    expected = a64 + b64
    poison_pool((expected.shape, dtype))
    check(ops.add(a, b), expected, dtype)


@pytest.mark.parametrize("dtype", ADD_DTYPES)
def test_add_reads_strided_and_expanded_inputs(rng, dtype):
    _, a64 = ref.random(rng, (20, 33), dtype)
    _, b64 = ref.random(rng, (1, 10), dtype)
    a = xrt.from_dlpack(torch_tensor(a64, dtype)[::2, 1::3].T)  # (11, 10), strides (3, 66)
    b = xrt.from_dlpack(torch_tensor(b64, dtype).expand(11, 10))  # strides (0, 1)
    assert a.strides == (3, 66) and b.strides == (0, 1)
    check(ops.add(a, b), a64[::2, 1::3].T + b64, dtype)


@pytest.mark.parametrize("dtype", ADD_DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_gelu(rng, dtype, shape):
    x, x64 = random(rng, shape, dtype)
    poison_pool((shape, dtype))
    check(ops.gelu(x), ref.gelu(x64), dtype)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_softmax(rng, dtype, shape):
    x, x64 = random(rng, shape, dtype)
    poison_pool((shape, dtype))
    check(ops.softmax(x), ref.softmax(x64), dtype)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("axis", [0, 1, -2, 2])
def test_softmax_along_any_axis(rng, dtype, axis):
    x, x64 = random(rng, (5, 6, 129), dtype)
    check(ops.softmax(x, axis=axis), ref.softmax(x64, axis=axis), dtype)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
def test_ops_make_strided_inputs_contiguous(rng, dtype):
    _, x64 = ref.random(rng, (1000, 37), dtype)
    _, w64 = ref.random(rng, (1000, 2), dtype)
    x = xrt.from_dlpack(torch_tensor(x64, dtype).T)
    w = xrt.from_dlpack(torch_tensor(w64, dtype)[:, 1])
    assert x.strides == (1, 37) and w.strides == (2,)
    x64, w64 = x64.T, w64[:, 1]
    check(ops.gelu(x), ref.gelu(x64), dtype)
    check(ops.softmax(x), ref.softmax(x64), dtype)
    check(ops.layer_norm(x, w, w), ref.layer_norm(x64, w64, w64), dtype)
    check(ops.rms_norm(x, w), ref.rms_norm(x64, w64), dtype)


NORM_SHAPES = [(5, 1), (5, 3), (37, 1000), (5, 4097), (2, 3, 129), (64, 4096), (16, 8192)]


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_layer_norm(rng, dtype, shape):
    x, x64 = random(rng, shape, dtype)
    w, w64 = random(rng, shape[-1], dtype)
    b, b64 = random(rng, shape[-1], dtype)
    poison_pool((shape, dtype))
    check(ops.layer_norm(x, w, b), ref.layer_norm(x64, w64, b64), dtype)
    check(ops.layer_norm(x, eps=0.1), ref.layer_norm(x64, eps=0.1), dtype)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_rms_norm(rng, dtype, shape):
    x, x64 = random(rng, shape, dtype)
    w, w64 = random(rng, shape[-1], dtype)
    poison_pool((shape, dtype))
    check(ops.rms_norm(x, w), ref.rms_norm(x64, w64), dtype)
    check(ops.rms_norm(x, eps=0.5), ref.rms_norm(x64, eps=0.5), dtype)


# Large enough that the width-1 rms_norm gradient, which is proportional to
# eps / (x² + eps), stays clear of float32 cancellation.
BACKWARD_EPS = 1e-2
# dweight and dbias sum over every row.
SUM_TOLERANCE = {"float32": 2e-5, "float16": 1e-2, "bfloat16": 1e-2}


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_layer_norm_backward(rng, dtype, shape):
    n = shape[-1]
    dy, dy64 = random(rng, shape, dtype)
    x, x64 = random(rng, shape, dtype)
    w, w64 = random(rng, n, dtype)
    poison_pool((shape, dtype), ((n,), dtype), ((n,), dtype))
    dx, dw, db = ops.layer_norm_backward(dy, x, w, eps=BACKWARD_EPS)
    want_dx, want_dw, want_db = ref.norm_backward(dy64, x64, w64, BACKWARD_EPS)
    check(dx, want_dx, dtype)
    check_norm(dw, want_dw, dtype, SUM_TOLERANCE[dtype])
    check_norm(db, want_db, dtype, SUM_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", GPU_FLOATS)
@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_rms_norm_backward(rng, dtype, shape):
    n = shape[-1]
    dy, dy64 = random(rng, shape, dtype)
    x, x64 = random(rng, shape, dtype)
    w, w64 = random(rng, n, dtype)
    poison_pool((shape, dtype), ((n,), dtype))
    dx, dw = ops.rms_norm_backward(dy, x, w, eps=BACKWARD_EPS)
    want_dx, want_dw = ref.norm_backward(dy64, x64, w64, BACKWARD_EPS, centred=False)
    check(dx, want_dx, dtype)
    check_norm(dw, want_dw, dtype, SUM_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", GPU_FLOATS)
def test_norm_backward_without_weight(rng, dtype):
    dy, dy64 = random(rng, (37, 1000), dtype)
    x, x64 = random(rng, (37, 1000), dtype)
    dx, dw, db = ops.layer_norm_backward(dy, x, eps=BACKWARD_EPS)
    want_dx, want_dw, want_db = ref.norm_backward(dy64, x64, None, BACKWARD_EPS)
    check(dx, want_dx, dtype)
    check_norm(dw, want_dw, dtype, SUM_TOLERANCE[dtype])
    check_norm(db, want_db, dtype, SUM_TOLERANCE[dtype])
    dx, dw = ops.rms_norm_backward(dy, x, eps=BACKWARD_EPS)
    want_dx, want_dw = ref.norm_backward(dy64, x64, None, BACKWARD_EPS, centred=False)
    check(dx, want_dx, dtype)
    check_norm(dw, want_dw, dtype, SUM_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", GPU_FLOATS)
def test_empty_tensors(dtype):
    x = xrt.zeros((0, 8), dtype, DEVICE)
    w = xrt.asarray(np.ones(8, np.dtype(dtype)), device=DEVICE)
    nothing = np.zeros((0, 8))
    check(ops.add(x, w), nothing, dtype)
    check(ops.gelu(x), nothing, dtype)
    check(ops.softmax(x), nothing, dtype)
    check(ops.layer_norm(x, w, w), nothing, dtype)
    check(ops.rms_norm(x, w), nothing, dtype)
    check(ops.matmul(x, xrt.zeros((8, 3), dtype, DEVICE)), np.zeros((0, 3)), dtype)
    # Gradients of the parameters are sums over no rows: zeros, not untouched memory.
    poison_pool(((0, 8), dtype), ((8,), dtype), ((8,), dtype))
    dx, dw, db = ops.layer_norm_backward(x, x, w)
    check(dx, nothing, dtype)
    check(dw, np.zeros(8), dtype)
    check(db, np.zeros(8), dtype)
    poison_pool(((0, 8), dtype), ((8,), dtype))
    dx, dw = ops.rms_norm_backward(x, x, w)
    check(dx, nothing, dtype)
    check(dw, np.zeros(8), dtype)


@pytest.mark.parametrize("dtype", GPU_FLOATS)
def test_ops_run_on_a_stream(rng, dtype):
    stream = xrt.Stream(DEVICE)
    x, x64 = random(rng, (37, 1000), dtype)
    y = ops.gelu(ops.add(x, x, stream=stream), stream=stream)
    stream.synchronize()
    check(y, ref.gelu(x64 + x64), dtype)

