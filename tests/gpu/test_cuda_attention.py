"""Attention on cuda:0 (f16, bf16; head_dim 64, 128) against float64
references and torch's scaled_dot_product_attention in the same dtype, for
each implementation: our flash kernels (impl="xrt": the Hopper kernels on
compute capability 9.0, the sm80 kernels elsewhere; impl="xrt_sm80" forces
those) and cuDNN's fused attention (impl="cudnn", skipped where cuDNN is not
installed)."""

import numpy as np
import pytest
import reference as ref
from cuda_util import DEVICE, check_norm, float64, poison_pool, random, torch, torch_tensor

import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu

DTYPES = ["float16", "bfloat16"]
FORWARD_TOLERANCE = {"float16": 5e-3, "bfloat16": 1e-2}
GRAD_TOLERANCE = 2e-2
LENGTHS = [1, 17, 127, 128, 1000]


def _cudnn_missing():
    """Why impl="cudnn" cannot run here (no GPU, no cuDNN), or None."""
    try:
        q = xrt.asarray(np.zeros((1, 1, 8, 64), np.float16), device=DEVICE)
        ops.attention(q, q, q, impl="cudnn")
    except xrt.Error as error:
        return str(error)
    return None


def _is_hopper():
    try:
        return xrt.Device(DEVICE).compute_capability == 90
    except xrt.Error:
        return False


CUDNN_MISSING = _cudnn_missing()
HOPPER = _is_hopper()
# The kernel impl="xrt" runs for attention's forward here (its backward is
# the same name with "_backward").
XRT_FORWARD = "cuda.flash_attention_sm90" if HOPPER else "cuda.flash_attention"
IMPLS = ["xrt", pytest.param("cudnn", marks=pytest.mark.skipif(
    CUDNN_MISSING is not None, reason=f"cuDNN attention cannot run: {CUDNN_MISSING}"))]


def operands(rng, b, h, lq, lk, d, dtype):
    q, q64 = random(rng, (b, h, lq, d), dtype)
    k, k64 = random(rng, (b, h, lk, d), dtype)
    v, v64 = random(rng, (b, h, lk, d), dtype)
    return (q, k, v), (q64, k64, v64)


def torch_forward(q64, k64, v64, dtype, causal, scale=None, grad64=None):
    """torch's SDPA in dtype: the output, and the gradients when grad64 is given."""
    q, k, v = (torch_tensor(x, dtype).requires_grad_(grad64 is not None) for x in (q64, k64, v64))
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)
    if grad64 is None:
        return float64(out)
    grads = torch.autograd.grad(out, (q, k, v), torch_tensor(grad64, dtype))
    return [float64(g) for g in grads]


def check_forward(rng, b, h, lq, lk, d, dtype, causal, scale=None, impl="xrt"):
    (q, k, v), (q64, k64, v64) = operands(rng, b, h, lq, lk, d, dtype)
    poison_pool(((b, h, lq, d), dtype))
    got = ops.attention(q, k, v, causal=causal, scale=scale, impl=impl)
    tolerance = FORWARD_TOLERANCE[dtype]
    check_norm(got, ref.attention(q64, k64, v64, causal, scale), dtype, tolerance)
    check_norm(got, torch_forward(q64, k64, v64, dtype, causal, scale), dtype, tolerance)


def check_backward(rng, b, h, lq, lk, d, dtype, causal, scale=None, impl="xrt"):
    (q, k, v), (q64, k64, v64) = operands(rng, b, h, lq, lk, d, dtype)
    grad, grad64 = random(rng, (b, h, lq, d), dtype)
    poison_pool(((b, h, lq, d), dtype), ((b, h, lk, d), dtype), ((b, h, lk, d), dtype))
    got = ops.attention_backward(grad, q, k, v, causal=causal, scale=scale, impl=impl)
    check_grads(got, (grad64, q64, k64, v64), dtype, causal, scale)


def check_grads(got, operands64, dtype, causal, scale=None):
    """dq, dk, dv against the float64 reference and torch's SDPA in dtype."""
    grad64, q64, k64, v64 = operands64
    expected = ref.attention_backward(grad64, q64, k64, v64, causal, scale)
    theirs = torch_forward(q64, k64, v64, dtype, causal, scale, grad64)
    for name, ours, want, torch_grad in zip(("dq", "dk", "dv"), got, expected, theirs):
        try:
            check_norm(ours, want, dtype, GRAD_TOLERANCE)
            check_norm(ours, torch_grad, dtype, GRAD_TOLERANCE)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None


def shape_for(length):
    """(batch, heads): a few heads for short sequences, fewer for long ones."""
    return (2, 3) if length <= 128 else (1, 2)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLS)
def test_forward(rng, impl, dtype, d, length, causal):
    check_forward(rng, *shape_for(length), length, length, d, dtype, causal, impl=impl)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLS)
def test_backward(rng, impl, dtype, d, length, causal):
    if impl == "cudnn" and length == 1:
        # cuDNN has no backward for one query and one key; the dispatcher
        # then runs ours.
        (q, k, v), _ = operands(rng, 1, 1, 1, 1, d, dtype)
        with pytest.raises(xrt.Unsupported, match="cuda.cudnn_attention_backward cannot run"):
            ops.attention_backward(q, q, k, v, causal=causal, impl="cudnn")
        impl = None
    check_backward(rng, *shape_for(length), length, length, d, dtype, causal, impl=impl)


# Lq != Lk both ways, around tile edges; the causal mask stays top-left aligned.
UNEVEN = [(1, 300), (17, 129), (64, 200), (300, 17), (200, 64), (129, 1)]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lq, lk", UNEVEN)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLS)
def test_uneven_lengths(rng, impl, dtype, lq, lk, causal):
    check_forward(rng, 1, 2, lq, lk, 64, dtype, causal, impl=impl)
    check_backward(rng, 1, 2, lq, lk, 128, dtype, causal, impl=impl)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLS)
def test_explicit_scale(rng, impl, dtype):
    check_forward(rng, 1, 2, 100, 150, 128, dtype, False, scale=0.3, impl=impl)
    check_backward(rng, 1, 2, 100, 150, 64, dtype, True, scale=0.3, impl=impl)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("impl", IMPLS)
def test_long_sequence(rng, impl, causal):
    check_forward(rng, 1, 1, 4096, 4096, 128, "bfloat16", causal, impl=impl)
    check_backward(rng, 1, 1, 4096, 4096, 128, "bfloat16", causal, impl=impl)


@pytest.mark.skipif(CUDNN_MISSING is not None, reason=f"cuDNN attention cannot run: {CUDNN_MISSING}")
def test_dispatcher_prefers_cudnn_and_profiles_the_choice(rng):
    (q, k, v), _ = operands(rng, 1, 2, 64, 64, 64, "bfloat16")
    grad, _ = random(rng, (1, 2, 64, 64), "bfloat16")
    with xrt.Profiler() as prof:
        ops.attention(q, k, v)
        ops.attention_backward(grad, q, k, v)
        ops.attention(q, k, v, impl="xrt")
    ran = [(e["name"], e["args"]["impl"]) for e in prof.events() if e.get("cat") == "op"]
    assert ran == [("attention", "cuda.cudnn_attention"),
                   ("attention_backward", "cuda.cudnn_attention_backward"),
                   ("attention", XRT_FORWARD)]


@pytest.mark.skipif(not HOPPER, reason="impl='xrt' already is the sm80 kernel on this GPU")
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lq, lk", [(n, n) for n in LENGTHS] + UNEVEN)
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sm80_kernels_where_xrt_means_the_hopper_ones(rng, dtype, d, lq, lk, causal):
    check_forward(rng, 1, 2, lq, lk, d, dtype, causal, impl="xrt_sm80")
    check_backward(rng, 1, 2, lq, lk, d, dtype, causal, impl="xrt_sm80")


@pytest.mark.skipif(not HOPPER, reason="the sm90 kernels run only on compute capability 9.0")
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lq, lk", [(64, 64), (128, 128), (129, 257), (300, 1000), (1000, 300),
                                    (255, 129)])
@pytest.mark.parametrize("d", [64, 128])
def test_hopper_backward_at_tile_edges(rng, d, lq, lk, causal):
    # Query tiles of 64, key blocks of 128 (64 per warpgroup): lengths on,
    # just past and short of their edges, more heads than SMs' worth of
    # blocks so the grid wraps.
    check_backward(rng, 2, 5, lq, lk, d, "bfloat16", causal, impl="xrt_sm90")


def test_hopper_kernels_run_only_on_hopper(rng):
    (q, k, v), _ = operands(rng, 1, 2, 64, 64, 64, "bfloat16")
    if HOPPER:
        with xrt.Profiler() as prof:
            ops.attention(q, k, v, impl="xrt_sm90")
            ops.attention_backward(q, q, k, v, impl="xrt_sm90")
            ops.attention_backward(q, q, k, v, impl="xrt")
        assert [e["args"]["impl"] for e in prof.events() if e.get("cat") == "op"] == \
            ["cuda.flash_attention_sm90"] + ["cuda.flash_attention_sm90_backward"] * 2
    else:
        for op in (ops.attention, lambda *a, **kw: ops.attention_backward(q, *a, **kw)):
            with pytest.raises(xrt.Unsupported, match="cuda.flash_attention_sm90"):
                op(q, k, v, impl="xrt_sm90")


def test_cuda_impl_names_are_checked(rng):
    (q, k, v), _ = operands(rng, 1, 1, 8, 8, 64, "bfloat16")
    with pytest.raises(xrt.InvalidArgument, match="'flash'"):
        ops.attention(q, k, v, impl="flash")
    # float32 has neither kernel: the registry names what exists.
    (q, k, v), _ = operands(rng, 1, 1, 8, 8, 64, "float32")
    with pytest.raises(xrt.NotFound, match="cuda.flash_attention"):
        ops.attention(q, k, v, impl="xrt")


def test_float32_has_no_cuda_kernel(rng):
    (q, k, v), _ = operands(rng, 1, 1, 8, 8, 64, "float32")
    with pytest.raises(xrt.Unsupported) as caught:
        ops.attention(q, k, v)
    assert "attention" in str(caught.value) and "float32" in str(caught.value)
    grad, _ = random(rng, (1, 1, 8, 64), "float32")
    with pytest.raises(xrt.Unsupported) as caught:
        ops.attention_backward(grad, q, k, v)
    assert "attention_backward" in str(caught.value) and "float32" in str(caught.value)


@pytest.mark.parametrize("dtype", DTYPES)
def test_other_head_dims_are_unsupported(rng, dtype):
    # Our kernels (32, 64, 96, 128); cuDNN may well run these shapes.
    (q, k, v), _ = operands(rng, 1, 1, 8, 8, 80, dtype)
    with pytest.raises(xrt.Unsupported) as caught:
        ops.attention(q, k, v, impl="xrt")
    assert "head_dim" in str(caught.value) and "80" in str(caught.value)
    grad, _ = random(rng, (1, 1, 8, 80), dtype)
    with pytest.raises(xrt.Unsupported) as caught:
        ops.attention_backward(grad, q, k, v, impl="xrt")
    assert "head_dim" in str(caught.value)
    # Dv != D passes the schema but not these kernels.
    q, _ = random(rng, (1, 1, 8, 64), dtype)
    k, _ = random(rng, (1, 1, 8, 64), dtype)
    v, _ = random(rng, (1, 1, 8, 128), dtype)
    with pytest.raises(xrt.Unsupported, match="head_dim"):
        ops.attention(q, k, v, impl="xrt")


def test_mismatched_head_dims_are_invalid(rng):
    q, _ = random(rng, (1, 1, 8, 64), "bfloat16")
    k, _ = random(rng, (1, 1, 8, 128), "bfloat16")
    with pytest.raises(xrt.InvalidArgument, match="head_dim"):
        ops.attention(q, k, k)


def test_result_is_on_the_device(rng):
    (q, k, v), _ = operands(rng, 1, 1, 5, 5, 64, "bfloat16")
    out = ops.attention(q, k, v)
    assert out.device == DEVICE and out.shape == (1, 1, 5, 64)
    assert np.isfinite(out.numpy().astype(np.float64)).all()
