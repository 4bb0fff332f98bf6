"""Grouped heads and the mask keywords in our sm80 flash kernels on cuda:0
(impl="xrt_sm80"; one case through the dispatcher's choice), forward (output and lse)
and backward (recomputed, and from the forward's output and lse), against
the float64 closed form of attention_reference on fresh random data:
grouped-query ratios 1, 2, 8 and all heads, head sizes 32 to 128,
key_lengths, window_left,
bottom-right alignment, bool and additive attn_mask broadcast as torch's
SDPA, lengths off the 64/128 tiles, and rows that see no key (output 0,
lse -inf, gradients 0, no NaN)."""

import ml_dtypes
import numpy as np
import pytest
import reference as ref
from cuda_util import DEVICE, check_norm, poison_pool, random

import attention_reference as aref
import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu

DTYPES = ["float16", "bfloat16"]
FORWARD_TOLERANCE = {"float16": 5e-3, "bfloat16": 1e-2}
GRAD_TOLERANCE = 2e-2
IMPL = "xrt_sm80"


def _operands(rng, b, h, hk, lq, lk, d, dtype):
    q, q64 = random(rng, (b, h, lq, d), dtype)
    k, k64 = random(rng, (b, hk, lk, d), dtype)
    v, v64 = random(rng, (b, hk, lk, d), dtype)
    grad, grad64 = random(rng, (b, h, lq, d), dtype)
    return (q, k, v, grad), (q64, k64, v64, grad64)


def _check_lse(got, want):
    """lse: -inf exactly where the reference's row sees nothing, else close
    (rows whose every score carries a mask beyond 1e30 only below -1e30)."""
    got = np.asarray(got.numpy(), dtype=np.float64)
    assert got.shape == want.shape
    assert not np.isnan(got).any(), "lse has unwritten (NaN) elements"
    empty = np.isneginf(want)
    np.testing.assert_array_equal(np.isneginf(got), empty)
    huge = ~empty & (want < -1e30)
    assert (got[huge] < -1e30).all()
    usual = ~empty & ~huge
    np.testing.assert_allclose(got[usual], want[usual], rtol=1e-3, atol=1e-3)


def check_case(rng, b, h, hk, lq, lk, d, dtype, impl, seen, add=None, causal=False, quiet=None,
               **keywords):
    """Forward with lse, then both backward paths, against the reference for
    the visibility `seen` (broadcast to (b, h, lq, lk)) and additive `add`;
    the output gradient is 0 on the rows `quiet` selects (b, h, lq)."""
    (q, k, v, grad), (q64, k64, v64, grad64) = _operands(rng, b, h, hk, lq, lk, d, dtype)
    if quiet is not None:
        grad64 = np.where(quiet[..., None], 0.0, grad64)
        grad = xrt.asarray(grad64.astype(np.dtype(dtype)), device=DEVICE)
    want, want_lse = aref.forward(q64, k64, v64, seen, add)
    poison_pool(((b, h, lq, d), dtype), ((b, h, lq), "float32"))
    out, lse = ops.attention(q, k, v, causal=causal, impl=impl, return_lse=True, **keywords)
    check_norm(out, want, dtype, FORWARD_TOLERANCE[dtype])
    _check_lse(lse, want_lse)
    # Rows that see nothing are exactly zero.
    empty = np.broadcast_to(np.isneginf(want_lse), (b, h, lq))
    assert not out.numpy().astype(np.float64)[empty].any()

    want_grads = aref.backward(grad64, q64, k64, v64, seen, add)
    grad_shapes = (((b, h, lq, d), dtype), ((b, hk, lk, d), dtype), ((b, hk, lk, d), dtype))
    for given in ({}, {"output": out, "lse": lse}):
        poison_pool(*grad_shapes)
        got = ops.attention_backward(grad, q, k, v, causal=causal, impl=impl, **given, **keywords)
        for ours, expected in zip(got, want_grads):
            check_norm(ours, expected, dtype, GRAD_TOLERANCE)
        assert not got[0].numpy().astype(np.float64)[empty].any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("h,hk", [(8, 8), (8, 4), (8, 1), (32, 8)])
@pytest.mark.parametrize("lq,lk,causal", [(1, 1, False), (127, 128, True), (300, 1000, False),
                                          (1000, 1000, True)])
def test_grouped_heads(rng, dtype, d, h, hk, lq, lk, causal):
    seen = aref.visible(lq, lk, causal)
    check_case(rng, 2, h, hk, lq, lk, d, dtype, IMPL, seen, causal=causal)


# (causal, window_left, bottom_right, key_lengths): key_lengths "some" mixes
# 0, a full batch entry and random lengths.
INDEX_MASKS = [
    (True, None, True, None),
    (False, 16, False, None),
    (True, 0, False, None),
    (True, 40, True, None),
    (False, None, False, "some"),
    (True, None, True, "some"),
    (False, 70, True, "some"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("causal,window,bottom_right,lengths", INDEX_MASKS)
@pytest.mark.parametrize("lq,lk", [(1, 1), (65, 200), (200, 65), (130, 130), (257, 1000)])
def test_index_masks(rng, dtype, d, causal, window, bottom_right, lengths, lq, lk):
    b, h, hk = 3, 4, 2
    key_lengths = None
    if lengths:
        key_lengths = np.array([0, lk, rng.integers(1, lk + 1)], np.int32)
    seen = aref.allowed(b, lq, lk, causal, window, bottom_right, key_lengths)
    keywords = dict(window_left=window, causal_align="bottom_right" if bottom_right else "top_left")
    if key_lengths is not None:
        keywords["key_lengths"] = xrt.asarray(key_lengths, device=DEVICE)
    check_case(rng, b, h, hk, lq, lk, d, dtype, IMPL, seen, causal=causal, **keywords)


def _mask(rng, shape, kind, dtype):
    """attn_mask of `shape` and kind bool / float32 / dtype: the array for
    the op, what it lets through and what it adds (float64). Bool masks hide
    a fifth of the scores; additive ones hide the first row where there is
    a row axis (-inf), so some rows see nothing."""
    rows = len(shape) >= 2 and shape[-2] > 1
    if kind == "bool":
        mask = rng.random(shape) > 0.2
        if rows:
            mask[..., 0, :] = False
        return mask, mask, None
    mask, mask64 = ref.random(rng, shape, dtype if kind == "dtype" else "float32")
    if rows:
        mask[..., 0, :] = -np.inf
        mask64 = mask.astype(np.float64)
    return mask, np.ones(shape, bool), mask64


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["bool", "float32", "dtype"])
@pytest.mark.parametrize("shape", ["lq,lk", "b,1,lq,lk", "1,h,1,lk", "b,h,lq,lk", "lk"])
@pytest.mark.parametrize("lq,lk,d,causal", [(130, 200, 64, False), (100, 77, 128, True)])
def test_attn_mask(rng, dtype, kind, shape, lq, lk, d, causal):
    b, h, hk = 2, 4, 2
    sizes = dict(b=b, h=h, lq=lq, lk=lk)
    dims = tuple(int(sizes[name]) if name in sizes else int(name) for name in shape.split(","))
    mask, seen, add = _mask(rng, dims, kind, dtype)
    seen = seen & aref.visible(lq, lk, causal)
    check_case(rng, b, h, hk, lq, lk, d, dtype, IMPL, seen, add, causal=causal,
               attn_mask=xrt.asarray(mask, device=DEVICE))


@pytest.mark.parametrize("dtype", DTYPES)
def test_masks_combined(rng, dtype):
    """Every mask at once, with grouped heads, off the tiles."""
    b, h, hk, lq, lk, d = 2, 8, 2, 190, 333, 128
    key_lengths = np.array([150, 333], np.int32)
    mask, seen, _ = _mask(rng, (b, 1, lq, lk), "bool", dtype)
    seen = seen & aref.allowed(b, lq, lk, True, 50, True, key_lengths)
    check_case(rng, b, h, hk, lq, lk, d, dtype, IMPL, seen, causal=True,
               attn_mask=xrt.asarray(mask, device=DEVICE), window_left=50,
               causal_align="bottom_right", key_lengths=xrt.asarray(key_lengths, device=DEVICE))


@pytest.mark.parametrize("impl", [IMPL, "xrt"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [32, 96])
@pytest.mark.parametrize("causal,lengths", [(False, False), (True, True)])
def test_head_dims_32_and_96(rng, impl, dtype, d, causal, lengths):
    """Head sizes only our sm80 kernels run ("xrt" falls through to them)."""
    b, h, hk, lq, lk = 2, 8, 2, 130, 200
    key_lengths = np.array([200, 77], np.int32) if lengths else None
    seen = aref.allowed(b, lq, lk, causal, None, causal, key_lengths)
    keywords = dict(causal_align="bottom_right" if causal else "top_left")
    if lengths:
        keywords["key_lengths"] = xrt.asarray(key_lengths, device=DEVICE)
    check_case(rng, b, h, hk, lq, lk, d, dtype, impl, seen, causal=causal, **keywords)


@pytest.mark.parametrize("kind", ["float32", "dtype"])
def test_rows_masked_by_the_lowest_finite_value(rng, kind):
    """A padding mask of the dtype's lowest finite value, as many models
    build it: rows masked everywhere weigh their keys alike (the CPU's and
    torch's answer; their lse is only required below -1e30 and their output
    gradient is 0, as for padding), the others ignore the masked keys."""
    b, h, lq, lk, d, dtype = 2, 4, 70, 90, 64, "bfloat16"
    mask_dtype = np.dtype("float32" if kind == "float32" else dtype)
    mask = np.zeros((b, 1, lq, lk), mask_dtype)
    lowest = ml_dtypes.finfo(mask_dtype).min
    mask[..., lk // 2:] = lowest
    mask[0, :, :5, :] = lowest  # rows that see only masked keys
    quiet = np.zeros((b, h, lq), bool)
    quiet[0, :, :5] = True
    check_case(rng, b, h, h, lq, lk, d, dtype, IMPL, np.ones((lq, lk), bool),
               mask.astype(np.float64), quiet=quiet, attn_mask=xrt.asarray(mask, device=DEVICE))


def test_rows_that_see_nothing(rng):
    """Bottom-right causal with Lq > Lk: the first Lq - Lk queries see no key."""
    b, h, lq, lk, d = 1, 2, 200, 70, 64
    seen = aref.visible(lq, lk, True, bottom_right=True)
    assert not seen[: lq - lk].any()
    check_case(rng, b, h, h, lq, lk, d, "bfloat16", IMPL, seen, causal=True,
               causal_align="bottom_right")


@pytest.mark.parametrize("impl", [None, "xrt", IMPL])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d,causal", [(64, False), (128, True)])
def test_no_keys(rng, impl, dtype, d, causal):
    """Lk == 0 as torch's SDPA: zeros, lse -inf, dq zero, dk and dv empty,
    whichever kernel the dispatcher (None), our kernels ("xrt") or the sm80
    kernel take it to."""
    check_case(rng, 2, 8, 2, 70, 0, d, dtype, impl, aref.visible(70, 0, causal), causal=causal)


@pytest.mark.parametrize("h,hk", [(8, 2), (8, 8)])
def test_dispatcher_runs_masked_calls(rng, h, hk):
    """Without impl, masked calls reach a kernel that runs them (ours where
    no faster one accepts the call) and give the reference's answer."""
    b, lq, lk, d = 2, 129, 200, 128
    key_lengths = np.array([200, 31], np.int32)
    mask, seen, _ = _mask(rng, (lq, lk), "bool", "bfloat16")
    seen = seen & aref.allowed(b, lq, lk, True, None, True, key_lengths)
    check_case(rng, b, h, hk, lq, lk, d, "bfloat16", None, seen, causal=True,
               attn_mask=xrt.asarray(mask, device=DEVICE), causal_align="bottom_right",
               key_lengths=xrt.asarray(key_lengths, device=DEVICE))
