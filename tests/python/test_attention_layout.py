"""Attention's layout contract on the CPU: strided q, k, v views (the
(batch, seq, heads, dim) memory of a fused projection, seen as (batch, heads,
seq, dim)) give the values of contiguous inputs, and the outputs follow the
axis order of the input they belong to (xrt_attention's doc)."""
import numpy as np
import pytest
import reference as ref

import xpuruntime as xrt
from xpuruntime import ops


def bshd(rng, b, h, length, d, dtype="float32"):
    """A (b, h, length, d) view of (b, length, h, d) memory, and its float64 values."""
    memory, memory64 = ref.random(rng, (b, length, h, d), dtype)
    return memory.transpose(0, 2, 1, 3), memory64.transpose(0, 2, 1, 3)


def seq_major_strides(shape):
    b, h, length, d = shape
    return (length * h * d, d, h * d, 1)


def contiguous_strides(shape):
    return tuple(int(s) for s in np.cumprod((1,) + shape[:0:-1])[::-1])


@pytest.mark.parametrize("return_lse", [False, True])
def test_bshd_views_match_contiguous_inputs_and_keep_their_axis_order(rng, return_lse):
    (q, q64), (k, _), (v, _) = (bshd(rng, 2, 3, n, 16) for n in (17, 9, 9))
    assert not q.flags.c_contiguous
    got = ops.attention(xrt.asarray(q), xrt.asarray(k), xrt.asarray(v), causal=True,
                        return_lse=return_lse)
    want = ops.attention(*(xrt.asarray(np.ascontiguousarray(x)) for x in (q, k, v)),
                         causal=True, return_lse=return_lse)
    out, want_out = (got[0], want[0]) if return_lse else (got, want)
    assert out.strides == seq_major_strides(out.shape)
    assert want_out.strides == contiguous_strides(want_out.shape)
    np.testing.assert_array_equal(out.numpy(), want_out.numpy())
    if return_lse:
        assert got[1].strides == contiguous_strides(got[1].shape)
        np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())
    # (B, L, H, D) memory: its transpose is the contiguous (B, L, H*D) rows.
    assert out.numpy().transpose(0, 2, 1, 3).flags.c_contiguous


def test_packed_qkv_views_are_read_in_place(rng):
    b, length, h, d = 2, 20, 4, 8
    packed, packed64 = ref.random(rng, (b, length, 3, h, d), "float32")
    q, k, v = (packed[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
    q64, k64, v64 = (packed64[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
    out = ops.attention(xrt.asarray(q), xrt.asarray(k), xrt.asarray(v))
    assert out.strides == seq_major_strides(out.shape)
    want = ref.attention(q64, k64, v64)
    assert np.linalg.norm(out.numpy() - want) / np.linalg.norm(want) < 1e-5


@pytest.mark.parametrize("shape", [(2, 1, 7, 8), (2, 3, 1, 8)])
def test_a_single_head_or_query_gives_a_contiguous_output(rng, shape):
    b, h, length, d = shape
    q, _ = bshd(rng, b, h, length, d)
    k, _ = bshd(rng, b, h, 5, d)
    out = ops.attention(xrt.asarray(q), xrt.asarray(k), xrt.asarray(k))
    assert out.strides == contiguous_strides(out.shape)


def test_views_no_kernel_can_read_in_place_are_copied(rng):
    # head_dim 3 (12-byte rows) and a start 4 bytes past an aligned one.
    (q, q64), (k, k64), (v, v64) = (bshd(rng, 1, 2, 6, 3) for _ in range(3))
    wide, wide64 = ref.random(rng, (1, 2, 6, 9), "float32")
    offset, offset64 = wide[..., 1:9], wide64[..., 1:9]
    for args, args64 in (((q, k, v), (q64, k64, v64)),
                         ((offset, offset, offset), (offset64, offset64, offset64))):
        out = ops.attention(*(xrt.asarray(x) for x in args))
        want = ref.attention(*args64)
        assert np.linalg.norm(out.numpy() - want) / np.linalg.norm(want) < 1e-5
        assert out.strides == contiguous_strides(out.shape)


def test_gradients_follow_their_inputs_layouts(rng):
    b, h, lq, lk, d = 2, 3, 11, 13, 8
    q, q64 = bshd(rng, b, h, lq, d)
    k, k64 = ref.random(rng, (b, h, lk, d), "float32")  # contiguous
    v, v64 = bshd(rng, b, h, lk, d)
    grad, grad64 = bshd(rng, b, h, lq, d)
    dq, dk, dv = ops.attention_backward(*(xrt.asarray(x) for x in (grad, q, k, v)), causal=True)
    assert dq.strides == seq_major_strides(dq.shape)
    assert dk.strides == contiguous_strides(dk.shape)
    assert dv.strides == seq_major_strides(dv.shape)
    want = ref.attention_backward(grad64, q64, k64, v64, causal=True)
    for got, expected in zip((dq, dk, dv), want):
        assert np.linalg.norm(got.numpy() - expected) / np.linalg.norm(expected) < 1e-5


def test_a_broadcast_grad_is_read_correctly(rng):
    q, q64 = bshd(rng, 1, 2, 5, 4)
    row, row64 = ref.random(rng, (4,), "float32")
    grad = np.broadcast_to(row, q.shape)  # every stride 0 but the last
    dq, dk, dv = ops.attention_backward(xrt.asarray(grad), *(xrt.asarray(q) for _ in range(3)))
    want = ref.attention_backward(np.broadcast_to(row64, q.shape), q64, q64, q64)
    for got, expected in zip((dq, dk, dv), want):
        assert np.linalg.norm(got.numpy() - expected) / max(np.linalg.norm(expected), 1e-30) < 1e-5
