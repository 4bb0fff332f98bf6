"""attention / attention_backward with grouped heads and masks on the CPU,
against the float64 closed form (attention_reference) and torch's
scaled_dot_product_attention where torch has the case."""
import numpy as np
import pytest
import reference as ref

import attention_reference as aref
import xpuruntime as xrt
from xpuruntime import ops

RELATIVE = {"float64": 1e-12, "float32": 2e-5, "float16": 1e-2, "bfloat16": 3e-2}


def _close(got, want, dtype, floor=0.0):
    got = np.asarray(got.numpy(), dtype=np.float64)
    assert not np.isnan(got).any()
    # Gradients that vanish (one key per query) are compared absolutely.
    err = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1.0)
    assert err <= max(RELATIVE[dtype], floor), err


def _operands(rng, b, h, hk, lq, lk, d, dtype):
    shapes = [(b, h, lq, d), (b, hk, lk, d), (b, hk, lk, d), (b, h, lq, d)]
    return zip(*(ref.random(rng, s, dtype) for s in shapes))


@pytest.mark.parametrize("dtype", ref.FLOAT_DTYPES)
@pytest.mark.parametrize("h,hk", [(4, 4), (4, 2), (8, 1), (8, 8), (16, 2)])
def test_grouped_heads(dtype, h, hk):
    rng = np.random.default_rng(h * 10 + hk)
    (q, k, v, g), (q64, k64, v64, g64) = _operands(rng, 2, h, hk, 19, 23, 8, dtype)
    seen = np.ones((19, 23), dtype=bool)
    out, lse = ops.attention(q, k, v, return_lse=True)
    want, want_lse = aref.forward(q64, k64, v64, seen)
    _close(out, want, dtype)
    _close(lse, want_lse, "float32" if dtype != "float64" else "float32")
    grads = ops.attention_backward(g, q, k, v)
    for got, expected in zip(grads, aref.backward(g64, q64, k64, v64, seen)):
        _close(got, expected, dtype)
    assert grads[1].shape == k.shape and grads[2].shape == v.shape


@pytest.mark.parametrize("shape", [(9, 33), (2, 1, 9, 33), (1, 4, 1, 33), (33,), (2, 4, 9, 33)])
@pytest.mark.parametrize("kind", ["bool", "float32", "float64"])
def _broadcast_mask_case(shape, kind):
    """float64 operands (ours, their float64 copies) and a mask of
    `shape`: (mask, seen, add) as aref takes them."""
    rng = np.random.default_rng(len(shape))
    operands = _operands(rng, 2, 4, 2, 9, 33, 8, "float64")
    if kind == "bool":
        mask = rng.random(shape) > 0.3
        return operands, (mask, mask, None)
    mask = rng.standard_normal(shape).astype(kind)
    return operands, (mask, np.ones(shape, dtype=bool), mask.astype(np.float64))


_MASK_SHAPES = [(9, 33), (2, 1, 9, 33), (1, 4, 1, 33), (33,), (2, 4, 9, 33)]


@pytest.mark.parametrize("shape", _MASK_SHAPES)
@pytest.mark.parametrize("kind", ["bool", "float32", "float64"])
def test_attn_mask_broadcasts(shape, kind):
    ((q, k, v, g), (q64, k64, v64, g64)), (mask, seen, add) = _broadcast_mask_case(shape, kind)
    out = ops.attention(q, k, v, attn_mask=mask)
    want, _ = aref.forward(q64, k64, v64, seen, add)
    _close(out, want, "float64")
    grads = ops.attention_backward(g, q, k, v, attn_mask=mask)
    for got, expected in zip(grads, aref.backward(g64, q64, k64, v64, seen, add)):
        _close(got, expected, "float64")


@pytest.mark.parametrize("shape", [s for s in _MASK_SHAPES if len(s) >= 2])  # torch's rule
@pytest.mark.parametrize("kind", ["bool", "float32", "float64"])
def test_attn_mask_broadcasts_as_torch(shape, kind):
    torch = pytest.importorskip("torch")
    ((q, k, v, _), _), (mask, _, _) = _broadcast_mask_case(shape, kind)
    out = ops.attention(q, k, v, attn_mask=mask)
    torch_mask = torch.tensor(mask)
    if kind != "bool":
        torch_mask = torch_mask.to(torch.float64)
    torch_out = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(x) for x in (q, k, v)), attn_mask=torch_mask, enable_gqa=True)
    # torch gives NaN where a row sees nothing; ours is 0, as the reference.
    np.testing.assert_allclose(out.numpy(), np.nan_to_num(torch_out.numpy()), atol=1e-12)


@pytest.mark.parametrize("dtype,lq,lk", [
    ("float64", 1, 1), ("float64", 5, 40), ("float64", 40, 5), ("float32", 130, 150),
    ("float16", 7, 7), ("bfloat16", 33, 20)])
@pytest.mark.parametrize("causal,window,bottom_right,lengths", [
    (True, None, False, False),
    (True, None, True, False),
    (False, 3, False, False),
    (True, 4, True, False),
    (False, None, False, True),
    (True, None, True, True),
    (True, 2, False, True),
])
def test_mask_keywords(dtype, lq, lk, causal, window, bottom_right, lengths):
    rng = np.random.default_rng(lq * 1000 + lk)
    b, h, hk = 3, 4, 2
    (q, k, v, g), (q64, k64, v64, g64) = _operands(rng, b, h, hk, lq, lk, 8, dtype)
    key_lengths = np.array([lk, 0, max(lk // 2, 1)], dtype=np.int32) if lengths else None
    seen = aref.allowed(b, lq, lk, causal, window, bottom_right, key_lengths)
    keywords = dict(window_left=window, key_lengths=key_lengths,
                    causal_align="bottom_right" if bottom_right else "top_left")
    out, lse = ops.attention(q, k, v, causal, return_lse=True, **keywords)
    want, want_lse = aref.forward(q64, k64, v64, seen)
    _close(out, want, dtype)
    got_lse = lse.numpy()
    assert np.array_equal(np.isneginf(got_lse), np.isneginf(want_lse))
    finite = np.isfinite(want_lse)
    np.testing.assert_allclose(got_lse[finite], want_lse[finite], rtol=1e-2, atol=1e-2)
    want_grads = aref.backward(g64, q64, k64, v64, seen)
    for given in (False, True):
        extra = dict(output=out, lse=lse) if given else {}
        grads = ops.attention_backward(g, q, k, v, causal, **keywords, **extra)
        for got, expected in zip(grads, want_grads):
            # The given lse is float32: its rounding bounds float64's error.
            _close(got, expected, dtype, 1e-6 if given else 0.0)


@pytest.mark.parametrize("dtype", ref.FLOAT_DTYPES)
@pytest.mark.parametrize("causal,window,lengths,additive", [
    (False, None, False, False),
    (False, None, True, True),
    (True, None, False, False),
    (False, 70, True, False),
    (True, 200, False, True),
])
def test_long_sequences_span_blocks_and_tiles(dtype, causal, window, lengths, additive):
    """Enough queries for the kernels' largest query blocks, a last block
    that is not a whole number of vector lanes, and key tiles cut short by
    the key length, the window, the causal edge and key_lengths; forward
    and backward, with and without the forward's lse."""
    rng = np.random.default_rng()
    b, h, hk, lq, lk = 2, 4, 2, 601, 389
    (q, k, v, g), (q64, k64, v64, g64) = _operands(rng, b, h, hk, lq, lk, 8, dtype)
    key_lengths = np.array([lk, 131], dtype=np.int32) if lengths else None
    seen = aref.allowed(b, lq, lk, causal, window, False, key_lengths)
    mask = add = None
    if additive:
        add = rng.standard_normal((1, h, lq, lk))
        mask = add.astype(np.float32)
        add = mask.astype(np.float64)
    out, lse = ops.attention(q, k, v, causal, return_lse=True, window_left=window,
                             key_lengths=key_lengths, attn_mask=mask)
    want, want_lse = aref.forward(q64, k64, v64, seen, add)
    _close(out, want, dtype)
    finite = np.isfinite(want_lse)
    assert np.array_equal(np.isfinite(lse.numpy()), finite)
    np.testing.assert_allclose(lse.numpy()[finite], want_lse[finite], rtol=1e-5, atol=1e-5)
    want_grads = aref.backward(g64, q64, k64, v64, seen, add)
    keywords = dict(window_left=window, key_lengths=key_lengths, attn_mask=mask)
    for given in (False, True):
        extra = dict(output=out, lse=lse) if given else {}
        grads = ops.attention_backward(g, q, k, v, causal, **keywords, **extra)
        for got, expected in zip(grads, want_grads):
            _close(got, expected, dtype, 1e-6 if given else 0.0)


def test_fully_masked_rows_are_zero():
    rng = np.random.default_rng(5)
    (q, k, v, g), _ = _operands(rng, 1, 2, 2, 4, 6, 8, "float32")
    mask = np.zeros((4, 6), dtype=bool)
    mask[1, 2] = True
    out = ops.attention(q, k, v, attn_mask=mask).numpy()
    assert np.all(out[:, :, [0, 2, 3]] == 0) and not np.isnan(out).any()
    dq, dk, dv = (x.numpy() for x in ops.attention_backward(g, q, k, v, attn_mask=mask))
    assert np.all(dq[:, :, [0, 2, 3]] == 0)
    assert not any(np.isnan(x).any() for x in (dq, dk, dv))


@pytest.mark.parametrize("dtype", ref.FLOAT_DTYPES)
@pytest.mark.parametrize("causal", [False, True])
def test_no_keys_give_zeros(rng, dtype, causal):
    """Lk == 0, as torch's scaled_dot_product_attention: every query sees no
    key, so the output is zeros, the lse -inf, dq zeros and dk, dv empty."""
    (q, k, v, g), _ = _operands(rng, 2, 4, 2, 5, 0, 8, dtype)
    out, lse = ops.attention(q, k, v, causal=causal, return_lse=True)
    assert out.shape == (2, 4, 5, 8) and not out.numpy().astype(np.float64).any()
    assert lse.shape == (2, 4, 5) and (lse.numpy() == -np.inf).all()
    masked = ops.attention(q, k, v, attn_mask=np.ones((5, 0), bool),
                           key_lengths=np.zeros(2, np.int32))
    assert not masked.numpy().astype(np.float64).any()
    dq, dk, dv = ops.attention_backward(g, q, k, v, causal=causal)
    assert dq.shape == q.shape and not dq.numpy().astype(np.float64).any()
    assert dk.shape == k.shape and dv.shape == v.shape


def test_no_keys_match_torch(rng):
    torch = pytest.importorskip("torch")
    (q, k, v, _), _ = _operands(rng, 1, 2, 2, 3, 0, 8, "float32")
    want = torch.nn.functional.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)))
    np.testing.assert_array_equal(ops.attention(q, k, v).numpy(), want.numpy())


def _error(kind, match, *args, **kwargs):
    with pytest.raises(kind, match=match):
        ops.attention(*args, **kwargs)


def test_bad_inputs_name_the_value():
    q = np.zeros((2, 6, 5, 8), np.float32)
    k = np.zeros((2, 4, 7, 8), np.float32)
    _error(xrt.InvalidArgument, r"6 heads, which is not a multiple of k and v's 4 heads", q, k, k)
    k = np.zeros((2, 3, 7, 8), np.float32)
    _error(xrt.InvalidArgument, r"attn_mask has shape \(3, 7\), which does not broadcast to "
           r"\(2, 6, 5, 7\)", q, k, k, attn_mask=np.ones((3, 7), bool))
    _error(xrt.InvalidArgument, r"attn_mask is int32, expected bool \(True = attend\) or an "
           r"additive float32 mask$", q, k, k, attn_mask=np.ones((5, 7), np.int32))
    _error(xrt.InvalidArgument, r"attn_mask is float64, expected bool \(True = attend\) or an "
           r"additive float16 or float32 mask$", q.astype(np.float16), k.astype(np.float16),
           k.astype(np.float16), attn_mask=np.ones((5, 7), np.float64))
    _error(xrt.InvalidArgument, r"key_lengths is float32, expected int32", q, k, k,
           key_lengths=np.ones(2, np.float32))
    _error(xrt.InvalidArgument, r"key_lengths has shape \(3,\), expected \(2,\)", q, k, k,
           key_lengths=np.ones(3, np.int32))
    _error(xrt.InvalidArgument, r"key_lengths\[1\] is 9, expected 0 to 7", q, k, k,
           key_lengths=np.array([1, 9], np.int32))
    _error(xrt.InvalidArgument, r"causal_align must be 'top_left' or 'bottom_right', got 'mid'",
           q, k, k, causal_align="mid")
    _error(xrt.InvalidArgument, r"window_left must be None or >= 0, got -2", q, k, k,
           window_left=-2)
    with pytest.raises(xrt.InvalidArgument, match=r"causal_align must be 0 \(top_left\) or 1"):
        ops.run("attention", q, k, k, causal_align=2)
    for scale in (float("inf"), float("nan")):
        _error(xrt.InvalidArgument, rf"scale must be > 0 and finite, got {scale}", q, k, k,
               scale=scale)
        # The C op's own check, for callers of the C API: 0 or less is the default.
        with pytest.raises(xrt.InvalidArgument, match=rf"attention: scale must be finite \(or "
                                                      rf"<= 0 for 1/sqrt\(head_dim\)\), got "
                                                      rf"{scale}"):
            ops.run("attention", q, k, k, scale=scale)
