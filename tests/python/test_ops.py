import timeit

import numpy as np
import pytest
import reference as ref
from reference import FLOAT_DTYPES

import xpuruntime as xrt
from xpuruntime import ops


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_matmul(rng, dtype):
    a, a64 = ref.random(rng, (3, 17, 64), dtype)
    b, b64 = ref.random(rng, (64, 9), dtype)
    out = ops.matmul(a, b)
    assert (out.shape, out.dtype, out.device) == ((3, 17, 9), np.dtype(dtype), xrt.Device("cpu"))
    ref.check(out, a64 @ b64, dtype)


def test_matmul_broadcasts_batch_dims(rng):
    a, a64 = ref.random(rng, (2, 1, 4, 5), "float64")
    b, b64 = ref.random(rng, (3, 5, 6), "float64")
    ref.check(ops.matmul(a, b), a64 @ b64, "float64")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_add_broadcasts(rng, dtype):
    a, a64 = ref.random(rng, (4, 1, 6), dtype)
    b, b64 = ref.random(rng, (5, 1), dtype)
    out = ops.add(xrt.asarray(a), xrt.asarray(b))
    assert out.shape == (4, 5, 6)
    ref.check(out, a64 + b64, dtype)


def test_add_scalars_take_the_tensors_dtype():
    t = xrt.asarray(np.arange(3, dtype=np.float32))
    for out in (ops.add(t, 1), ops.add(2.5, t), ops.add(t, True), ops.add(t, [1, 2, 3])):
        assert out.dtype == np.float32
    assert ops.add(t, 1.5).numpy().tolist() == [1.5, 2.5, 3.5]
    assert ops.add([1.0, 2.0], 1).numpy().tolist() == [2.0, 3.0]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_gelu(rng, dtype):
    x, x64 = ref.random(rng, (7, 33), dtype)
    ref.check(ops.gelu(x), ref.gelu(x64), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax(rng, dtype, axis):
    x, x64 = ref.random(rng, (5, 6, 7), dtype)
    ref.check(ops.softmax(x, axis=axis), ref.softmax(x64, axis=axis), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("axis", [-1, 1])
def test_softmax_long_rows(rng, dtype, axis):
    """Rows and column blocks longer than the vector loops' widths, scores
    far apart (some exponentials under float's range) and masked (-inf)
    entries."""
    x, _ = ref.random(rng, (3, 37, 300), dtype)
    x = x * 40
    x[:, 5, 7] = x[:, 9, 11] = -np.inf
    x64 = x.astype(np.float64)
    ref.check(ops.softmax(x, axis=axis), ref.softmax(x64, axis=axis), dtype)


def test_softmax_axis_out_of_range(rng):
    with pytest.raises(xrt.InvalidArgument, match="3"):
        ops.softmax(np.ones((2, 2), np.float32), axis=3)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_layer_norm(rng, dtype):
    x, x64 = ref.random(rng, (3, 4, 32), dtype)
    w, w64 = ref.random(rng, 32, dtype)
    b, b64 = ref.random(rng, 32, dtype)
    ref.check(ops.layer_norm(x, w, b), ref.layer_norm(x64, w64, b64), dtype)
    ref.check(ops.layer_norm(x), ref.layer_norm(x64), dtype)
    ref.check(ops.layer_norm(x, w, eps=0.1), ref.layer_norm(x64, w64, eps=0.1), dtype)


def test_layer_norm_far_from_zero(rng):
    """float32 rows longer than the vector loops, with a mean 1e4 times
    their spread: the statistics must not lose the spread to the mean's
    rounding."""
    x = (1e4 + rng.standard_normal((5, 1000))).astype(np.float32)
    w, w64 = ref.random(rng, 1000, "float32")
    ref.check(ops.layer_norm(x, w), ref.layer_norm(x.astype(np.float64), w64), "float32")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rms_norm(rng, dtype):
    x, x64 = ref.random(rng, (6, 48), dtype)
    w, w64 = ref.random(rng, 48, dtype)
    ref.check(ops.rms_norm(x, w), ref.rms_norm(x64, w64), dtype)
    ref.check(ops.rms_norm(x, eps=0.5), ref.rms_norm(x64, eps=0.5), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("causal", [False, True])
def test_attention(rng, dtype, causal):
    q, q64 = ref.random(rng, (2, 3, 10, 16), dtype)
    k, k64 = ref.random(rng, (2, 3, 10, 16), dtype)
    v, v64 = ref.random(rng, (2, 3, 10, 8), dtype)
    out = ops.attention(q, k, v, causal=causal)
    assert out.shape == (2, 3, 10, 8)
    ref.check(out, ref.attention(q64, k64, v64, causal=causal), dtype)


@pytest.mark.parametrize("lq, lk", [(4, 9), (9, 4)])
def test_causal_attention_is_top_left_aligned(rng, lq, lk):
    q, q64 = ref.random(rng, (1, 2, lq, 8), "float64")
    k, k64 = ref.random(rng, (1, 2, lk, 8), "float64")
    v, v64 = ref.random(rng, (1, 2, lk, 8), "float64")
    ref.check(ops.attention(q, k, v, causal=True), ref.attention(q64, k64, v64, causal=True),
              "float64")


def test_attention_scale(rng):
    q, q64 = ref.random(rng, (1, 1, 5, 4), "float32")
    ref.check(ops.attention(q, q, q, scale=0.3), ref.attention(q64, q64, q64, scale=0.3),
              "float32")
    with pytest.raises(xrt.InvalidArgument, match="-1.0"):
        ops.attention(q, q, q, scale=-1.0)


def test_attention_impl_on_the_cpu(rng):
    q, q64 = ref.random(rng, (1, 2, 6, 8), "float32")
    grad, grad64 = ref.random(rng, (1, 2, 6, 8), "float32")
    with xrt.Profiler() as profiler:
        out = ops.attention(q, q, q, impl="xrt")
        grads = ops.attention_backward(grad, q, q, q, impl="xrt")
    ref.check(out, ref.attention(q64, q64, q64), "float32")
    for got, want in zip(grads, ref.attention_backward(grad64, q64, q64, q64)):
        ref.check(got, want, "float32")
    ran = [e["args"]["impl"] for e in profiler.events() if e.get("ph") == "X"]
    assert ran == ["cpu.attention", "cpu.attention_backward"]
    with pytest.raises(xrt.Unsupported, match="'cudnn' does not run on cpu"):
        ops.attention(q, q, q, impl="cudnn")
    with pytest.raises(xrt.InvalidArgument, match="impl must be None or one of 'xrt', .*'cudnn', got 'fast'"):
        ops.attention_backward(grad, q, q, q, impl="fast")


def test_non_contiguous_inputs(rng):
    a, a64 = ref.random(rng, (12, 10), "float32")
    b, b64 = ref.random(rng, (12, 8), "float32")
    ref.check(ops.matmul(a.T, b), a64.T @ b64, "float32")
    ref.check(ops.add(a[::2, 1::3], a[1::2, ::4]), a64[::2, 1::3] + a64[1::2, ::4], "float32")
    ref.check(ops.softmax(a.T, axis=0), ref.softmax(a64.T, axis=0), "float32")
    ref.check(ops.gelu(a[:, ::-1]), ref.gelu(a64[:, ::-1]), "float32")
    ref.check(ops.layer_norm(a[::3]), ref.layer_norm(a64[::3]), "float32")


def test_empty_inputs():
    out = ops.add(np.ones((0, 3), np.float32), np.ones(3, np.float32))
    assert out.shape == (0, 3)
    assert ops.matmul(np.ones((0, 4), np.float32), np.ones((4, 2), np.float32)).shape == (0, 2)
    zero_inner = ops.matmul(np.ones((2, 0), np.float32), np.ones((0, 3), np.float32))
    assert zero_inner.numpy().tolist() == [[0.0] * 3] * 2
    assert ops.gelu(np.ones((2, 0), np.float32)).shape == (2, 0)


def test_results_are_new_tensors_on_the_inputs_device():
    a = xrt.asarray(np.ones(3, np.float32))
    out = ops.add(a, a)
    assert isinstance(out, xrt.Tensor) and out is not a
    assert out.device == a.device
    assert out.numpy().tolist() == [2.0, 2.0, 2.0]


def test_run_by_name(rng):
    x, x64 = ref.random(rng, (4, 5), "float32")
    ref.check(ops.run("softmax", x, axis=0), ref.softmax(x64, axis=0), "float32")
    ref.check(ops.run("add", x, x), x64 + x64, "float32")
    ref.check(ops.run("attention", x[None, None], x[None, None], x[None, None], causal=True),
              ref.attention(x64[None, None], x64[None, None], x64[None, None], causal=True),
              "float32")


def test_run_rejects_other_attribute_types():
    with pytest.raises(xrt.InvalidArgument, match="axis='a'"):
        ops.run("softmax", np.ones(2, np.float32), axis="a")


def test_integer_ops_are_unsupported_naming_the_dtype():
    with pytest.raises(xrt.Unsupported, match="int32"):
        ops.add(np.ones(2, np.int32), np.ones(2, np.int32))


def test_small_add_is_fast():
    a = xrt.asarray(np.ones(1, np.float32))
    b = xrt.asarray(np.ones(1, np.float32))
    add = ops.add
    seconds = min(timeit.repeat(lambda: add(a, b), number=2000, repeat=5)) / 2000
    assert seconds < 3e-6, f"{seconds * 1e6:.2f} us per add"
