"""attention_varlen, attention_decode and kv_cache_append on the CPU: packed
sequences against the float64 closed form per sequence, decoding against
the dense op on the same cache."""
import numpy as np
import pytest
import reference as ref

import attention_reference as aref
import xpuruntime as xrt
from xpuruntime import ops

RELATIVE = {"float64": 1e-12, "float32": 2e-5, "float16": 1e-2, "bfloat16": 3e-2}


def _close(got, want, dtype):
    got = np.asarray(got.numpy() if hasattr(got, "numpy") else got, dtype=np.float64)
    assert not np.isnan(got).any()
    err = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1.0)
    assert err <= RELATIVE[dtype], err


def _cu(lengths):
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)


@pytest.mark.parametrize("dtype", ref.FLOAT_DTYPES)
@pytest.mark.parametrize("causal,window,bottom_right", [
    (False, None, False), (True, None, False), (True, None, True), (True, 3, True)])
def test_varlen_matches_each_sequence(dtype, causal, window, bottom_right):
    rng = np.random.default_rng(7)
    lens_q = [5, 0, 1, 17, 9]
    lens_k = [7, 3, 1, 17, 0]
    h, hk, d = 4, 2, 8
    (q, k, v), (q64, k64, v64) = zip(*(ref.random(rng, s, dtype) for s in [
        (sum(lens_q), h, d), (sum(lens_k), hk, d), (sum(lens_k), hk, d)]))
    g, g64 = ref.random(rng, (sum(lens_q), h, d), dtype)
    cq, ck = _cu(lens_q), _cu(lens_k)
    keywords = dict(window_left=window, causal_align="bottom_right" if bottom_right else "top_left")
    out, lse = ops.attention_varlen(q, k, v, cq, ck, max(lens_q), max(lens_k), causal,
                                    return_lse=True, **keywords)
    grads = ops.attention_varlen_backward(g, q, k, v, cq, ck, max(lens_q), max(lens_k), causal,
                                          **keywords)
    want = np.zeros((sum(lens_q), h, d))
    want_grads = [np.zeros(x.shape) for x in (q64, k64, v64)]
    for b in range(len(lens_q)):
        sq, sk = slice(cq[b], cq[b + 1]), slice(ck[b], ck[b + 1])
        dense = lambda x, s: x[s].transpose(1, 0, 2)[None]
        seen = aref.visible(lens_q[b], lens_k[b], causal, window, bottom_right)
        o, _ = aref.forward(dense(q64, sq), dense(k64, sk), dense(v64, sk), seen)
        want[sq] = o[0].transpose(1, 0, 2)
        for out_grad, piece, s in zip(want_grads, aref.backward(
                dense(g64, sq), dense(q64, sq), dense(k64, sk), dense(v64, sk), seen),
                (sq, sk, sk)):
            out_grad[s] = piece[0].transpose(1, 0, 2)
    _close(out, want, dtype)
    assert lse.shape == (h, sum(lens_q))
    for got, expected in zip(grads, want_grads):
        _close(got, expected, dtype)
    given = ops.attention_varlen_backward(g, q, k, v, cq, ck, causal=causal, output=out, lse=lse,
                                          **keywords)
    for got, expected in zip(given, grads):
        _close(got, expected.numpy().astype(np.float64), "float32" if dtype == "float64" else dtype)


def test_varlen_bad_cu_seqlens():
    q = np.zeros((6, 2, 8), np.float32)
    run = lambda cq, ck=None, **kw: ops.attention_varlen(
        q, q, q, np.array(cq, np.int32), np.array(ck or cq, np.int32), **kw)
    with pytest.raises(xrt.InvalidArgument, match=r"cu_seqlens_q\[0\] is 1, expected 0"):
        run([1, 6])
    with pytest.raises(xrt.InvalidArgument, match=r"cu_seqlens_q is not monotonic: entry 2 is 3"):
        run([0, 4, 3, 6])
    with pytest.raises(xrt.InvalidArgument, match=r"cu_seqlens_q ends at 5, expected the token "
                       r"count 6"):
        run([0, 5])
    with pytest.raises(xrt.InvalidArgument, match=r"cu_seqlens_q has shape \(0,\)"):
        run([], [0])
    with pytest.raises(xrt.InvalidArgument, match=r"cu_seqlens_k has shape \(3,\), expected "
                       r"cu_seqlens_q's \(2,\)"):
        run([0, 6], [0, 3, 6])
    with pytest.raises(xrt.InvalidArgument, match=r"sequence 0 of cu_seqlens_q has length 6, "
                       r"above max_seqlen 4"):
        run([0, 6], max_seqlen_q=4)
    with pytest.raises(xrt.InvalidArgument, match=r"cu_seqlens_q is float32, expected int32"):
        ops.attention_varlen(q, q, q, np.array([0, 6], np.float32), np.array([0, 6], np.int32))


def _paged(rng, k_dense, lens, block_size, spare=3):
    """The rows of k_dense (B, cap, Hkv, D) as a shuffled paged cache."""
    b, cap = k_dense.shape[:2]
    per_seq = -(-cap // block_size)
    order = rng.permutation(b * per_seq + spare)
    cache = np.zeros((len(order), block_size) + k_dense.shape[2:], k_dense.dtype)
    table = np.full((b, per_seq + 1), -1, np.int32)
    for s in range(b):
        for i in range(-(-int(lens[s]) // block_size)):
            block = order[s * per_seq + i]
            table[s, i] = block
            rows = k_dense[s, i * block_size:(i + 1) * block_size]
            cache[block, :len(rows)] = rows
    return cache, table


def _check_decode(rng, dtype, lq, h, hk, cap, d, lens, paged, block_size, window=None):
    """Decodes from a fresh cache (paged: shuffled blocks of block_size rows)
    and checks each sequence against the float64 reference; returns the
    output, q and the dense caches."""
    b = len(lens)
    q, q64 = ref.random(rng, (b, lq, h, d), dtype)
    kc, kc64 = ref.random(rng, (b, cap, hk, d), dtype)
    vc, vc64 = ref.random(rng, (b, cap, hk, d), dtype)
    table = None
    k_in, v_in = kc, vc
    if paged:
        k_in, table = _paged(np.random.default_rng(1), kc, lens, block_size)
        v_in, _ = _paged(np.random.default_rng(1), vc, lens, block_size)
    out = ops.attention_decode(q, k_in, v_in, lens, table, window_left=window).numpy()
    for s in range(b):
        n = int(lens[s])
        seen = aref.visible(lq, n, causal=True, window_left=window, bottom_right=True)
        want, _ = aref.forward(q64[s].transpose(1, 0, 2)[None],
                               kc64[s, :n].transpose(1, 0, 2)[None],
                               vc64[s, :n].transpose(1, 0, 2)[None], seen)
        _close(out[s], want[0].transpose(1, 0, 2), dtype)
    return out, q, kc, vc


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("lq,h,hk", [(1, 8, 2), (4, 8, 8), (16, 4, 1)])
@pytest.mark.parametrize("paged", [False, True])
def test_decode_matches_dense(dtype, lq, h, hk, paged):
    rng = np.random.default_rng(lq * 100 + h + hk)
    lens = np.array([40, 17, lq], np.int32)
    out, q, kc, vc = _check_decode(rng, dtype, lq, h, hk, 40, 16, lens, paged, 8)
    for s in range(len(lens)):
        n = int(lens[s])
        dense = ops.attention(q[s:s + 1].transpose(0, 2, 1, 3), kc[s:s + 1, :n].transpose(0, 2, 1, 3),
                              vc[s:s + 1, :n].transpose(0, 2, 1, 3), True,
                              causal_align="bottom_right")
        np.testing.assert_allclose(out[s].astype(np.float64),
                                   dense.numpy()[0].transpose(1, 0, 2).astype(np.float64),
                                   **ref.TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ref.FLOAT_DTYPES)
@pytest.mark.parametrize("window", [None, 150])
@pytest.mark.parametrize("paged", [False, True])
def test_decode_long_cache(dtype, window, paged):
    """Caches longer than one key tile, read in place or through blocks
    that straddle tiles, with grouped heads several queries deep."""
    _check_decode(np.random.default_rng(), dtype, 3, 8, 2, 300, 16,
                  np.array([300, 129, 3], np.int32), paged, 24, window)


@pytest.mark.parametrize("paged", [False, True])
def test_append_then_decode(paged):
    rng = np.random.default_rng(3)
    b, cap, hk, d, new = 2, 24, 2, 8, 3
    lens = np.array([5, 0], np.int32)
    full, _ = ref.random(rng, (b, cap, hk, d), "float32")
    k_new, _ = ref.random(rng, (b, new, hk, d), "float32")
    if paged:
        cache_np, table = _paged(np.random.default_rng(2), full, np.full(b, cap), 8)
    else:
        cache_np, table = full.copy(), None
    k_cache, v_cache = xrt.asarray(cache_np), xrt.asarray(cache_np.copy())
    new_lens = ops.kv_cache_append(k_cache, v_cache, k_new, k_new, lens, table)
    np.testing.assert_array_equal(new_lens.numpy(), lens + new)
    expected = full.copy()
    for s in range(b):
        expected[s, lens[s]:lens[s] + new] = k_new[s]
    q, _ = ref.random(rng, (b, 1, 4, d), "float32")
    got = ops.attention_decode(q, k_cache, v_cache, new_lens, table).numpy()
    ref_cache = expected if not paged else _paged(np.random.default_rng(2), expected,
                                                  np.full(b, cap), 8)[0]
    want = ops.attention_decode(q, ref_cache, ref_cache, new_lens, table).numpy()
    np.testing.assert_array_equal(got, want)


def test_decode_and_append_bad_inputs():
    q = np.zeros((2, 1, 4, 8), np.float32)
    cache = np.zeros((2, 16, 2, 8), np.float32)
    lens = np.array([3, 4], np.int32)
    with pytest.raises(xrt.InvalidArgument, match=r"cache_seqlens\[1\] is 17, expected 0 to 16"):
        ops.attention_decode(q, cache, cache, np.array([3, 17], np.int32))
    paged = np.zeros((5, 4, 2, 8), np.float32)
    with pytest.raises(xrt.InvalidArgument, match=r"block_table\[0\]\[1\] is 5, outside the "
                       r"cache's 5 blocks"):
        ops.attention_decode(q, paged, paged, np.array([6, 2], np.int32),
                             np.array([[0, 5], [1, -1]], np.int32))
    with pytest.raises(xrt.InvalidArgument, match=r"block_table has shape \(3, 2\), expected "
                       r"\(2, max_blocks\)"):
        ops.attention_decode(q, paged, paged, lens, np.zeros((3, 2), np.int32))
    with pytest.raises(xrt.InvalidArgument, match=r"4 heads, which is not a multiple of k and "
                       r"v's 3 heads"):
        ops.attention_decode(q, np.zeros((2, 16, 3, 8), np.float32),
                             np.zeros((2, 16, 3, 8), np.float32), lens)
    with pytest.raises(xrt.InvalidArgument, match=r"cache_seqlens is int64, expected int32"):
        ops.attention_decode(q, cache, cache, lens.astype(np.int64))
    k_new = np.zeros((2, 14, 2, 8), np.float32)
    with pytest.raises(xrt.InvalidArgument, match=r"cache_seqlens\[0\] is 3 before the new rows, "
                       r"expected 0 to 2"):
        ops.kv_cache_append(xrt.asarray(cache), xrt.asarray(cache), k_new, k_new, lens)
    strided = np.zeros((16, 2, 2, 8), np.float32).transpose(1, 0, 2, 3)
    with pytest.raises(xrt.InvalidArgument, match=r"k_cache must be contiguous"):
        ops.kv_cache_append(strided, cache.copy(), k_new[:, :1], k_new[:, :1], lens)


def test_append_writes_a_numpy_cache_in_place():
    cache = np.zeros((2, 8, 1, 4), np.float32)
    k = np.ones((2, 1, 1, 4), np.float32)
    lens = ops.kv_cache_append(cache, cache.copy(), k, k, np.array([0, 1], np.int32))
    np.testing.assert_array_equal(lens.numpy(), [1, 2])
    np.testing.assert_array_equal(cache[:, :2, 0, 0], [[1, 0], [0, 1]])
