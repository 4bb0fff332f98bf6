"""attention_varlen (and _lse, _backward) on cuda:0, our sm80 flash kernels
over packed sequences (impl="xrt", which falls through to them): against the float64 closed form of each sequence on
fresh random data, outputs poisoned, with empty and length-1 sequences,
lengths off the 64/128 tiles, grouped heads, the mask keywords, and bad
cu_seqlens refused by name."""

import numpy as np
import pytest
from cuda_util import DEVICE, check_norm, poison_pool, random

import attention_reference as aref
import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu

DTYPES = ["float16", "bfloat16"]
FORWARD_TOLERANCE = {"float16": 5e-3, "bfloat16": 1e-2}
GRAD_TOLERANCE = 2e-2
IMPL = "xrt"
# Empty and length-1 sequences, a query side longer than its keys and the
# reverse, exact tiles and lengths off them.
LENGTHS_Q = [0, 1, 65, 128, 300, 17, 5]
LENGTHS_K = [5, 1, 200, 128, 300, 0, 70]


def _cu(lengths):
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)


def _reference(q64, k64, v64, g64, lens_q, lens_k, h, causal, window, bottom_right):
    """Output, lse (h, total_q) and gradients, sequence by sequence."""
    cq, ck = _cu(lens_q), _cu(lens_k)
    out, lse = np.zeros(q64.shape[:2] + v64.shape[2:]), np.full((h, q64.shape[0]), -np.inf)
    grads = [np.zeros(x.shape) for x in (q64, k64, v64)]
    dense = lambda x, s: x[s].transpose(1, 0, 2)[None]
    for b in range(len(lens_q)):
        sq, sk = slice(cq[b], cq[b + 1]), slice(ck[b], ck[b + 1])
        seen = aref.visible(lens_q[b], lens_k[b], causal, window, bottom_right)
        o, l = aref.forward(dense(q64, sq), dense(k64, sk), dense(v64, sk), seen)
        out[sq] = o[0].transpose(1, 0, 2)
        lse[:, sq] = l[0]
        pieces = aref.backward(dense(g64, sq), dense(q64, sq), dense(k64, sk), dense(v64, sk),
                               seen)
        for whole, piece, s in zip(grads, pieces, (sq, sk, sk)):
            whole[s] = piece[0].transpose(1, 0, 2)
    return out, lse, grads


def _check_lse(got, want):
    got = np.asarray(got.numpy(), dtype=np.float64)
    assert got.shape == want.shape
    assert not np.isnan(got).any(), "lse has unwritten (NaN) elements"
    empty = np.isneginf(want)
    np.testing.assert_array_equal(np.isneginf(got), empty)
    np.testing.assert_allclose(got[~empty], want[~empty], rtol=1e-3, atol=1e-3)


def check_varlen(rng, lens_q, lens_k, h, hk, d, dtype, causal=False, window=None,
                 bottom_right=False, max_given=True):
    tq, tk = sum(lens_q), sum(lens_k)
    q, q64 = random(rng, (tq, h, d), dtype)
    k, k64 = random(rng, (tk, hk, d), dtype)
    v, v64 = random(rng, (tk, hk, d), dtype)
    g, g64 = random(rng, (tq, h, d), dtype)
    cq = xrt.asarray(_cu(lens_q), device=DEVICE)
    ck = xrt.asarray(_cu(lens_k), device=DEVICE)
    lengths = (max(lens_q), max(lens_k)) if max_given else (None, None)
    keywords = dict(window_left=window, causal_align="bottom_right" if bottom_right else "top_left")
    want, want_lse, want_grads = _reference(q64, k64, v64, g64, lens_q, lens_k, h, causal, window,
                                            bottom_right)

    poison_pool(((tq, h, d), dtype), ((h, tq), "float32"))
    out, lse = ops.attention_varlen(q, k, v, cq, ck, *lengths, causal, return_lse=True,
                                    impl=IMPL, **keywords)
    check_norm(out, want, dtype, FORWARD_TOLERANCE[dtype])
    _check_lse(lse, want_lse)
    for given in ({}, {"output": out, "lse": lse}):
        poison_pool(((tq, h, d), dtype), ((tk, hk, d), dtype), ((tk, hk, d), dtype))
        grads = ops.attention_varlen_backward(g, q, k, v, cq, ck, *lengths, causal, **given,
                                              impl=IMPL, **keywords)
        for got, expected in zip(grads, want_grads):
            check_norm(got, expected, dtype, GRAD_TOLERANCE)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("h,hk", [(8, 8), (8, 4), (8, 1)])
@pytest.mark.parametrize("causal,window,bottom_right", [
    (False, None, False), (True, None, False), (True, None, True), (True, 40, True),
    (False, 16, False)])
def test_varlen(rng, dtype, d, h, hk, causal, window, bottom_right):
    check_varlen(rng, LENGTHS_Q, LENGTHS_K, h, hk, d, dtype, causal, window, bottom_right)


@pytest.mark.parametrize("dtype", DTYPES)
def test_varlen_without_max_seqlen(rng, dtype):
    check_varlen(rng, [3, 129, 0], [64, 1, 7], 4, 2, 128, dtype, True, max_given=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [32, 96])
def test_varlen_head_dims_32_and_96(rng, dtype, d):
    check_varlen(rng, LENGTHS_Q, LENGTHS_K, 8, 2, d, dtype, True, 40, True)


def test_varlen_single_and_empty_batches(rng):
    check_varlen(rng, [1000], [1000], 4, 1, 64, "bfloat16", True)
    check_varlen(rng, [0, 0], [3, 4], 2, 2, 64, "bfloat16")
    check_varlen(rng, [3, 4], [0, 0], 2, 2, 64, "bfloat16")


def test_bad_cu_seqlens_are_refused_by_name(rng):
    q, _ = random(rng, (10, 2, 64), "bfloat16")
    cases = [
        ("cu_seqlens_q is not monotonic", [0, 6, 4, 10], [0, 2, 4, 10]),
        ("cu_seqlens_q ends at 9", [0, 4, 9], [0, 4, 10]),
        (r"cu_seqlens_k\[0\] is 1", [0, 4, 10], [1, 4, 10]),
    ]
    for message, cq, ck in cases:
        cq, ck = (xrt.asarray(np.array(x, np.int32), device=DEVICE) for x in (cq, ck))
        with pytest.raises(xrt.InvalidArgument, match=message):
            ops.attention_varlen(q, q, q, cq, ck, impl=IMPL)
    good = xrt.asarray(np.array([0, 4, 10], np.int32), device=DEVICE)
    with pytest.raises(xrt.InvalidArgument, match="above max_seqlen 5"):
        ops.attention_varlen(q, q, q, good, good, 5, 6, impl=IMPL)
