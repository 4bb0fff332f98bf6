"""Attention's layout contract on cuda:0: q, k, v as strided views of one
packed (batch, seq, 3, heads, dim) projection give the float64 reference's
values through every implementation (cuDNN reads them in place, our kernels
from copies), and the outputs follow their inputs' axis order."""

import pytest
import reference as ref
from cuda_util import check_norm, poison_pool, torch_tensor
from test_cuda_attention import CUDNN_MISSING, FORWARD_TOLERANCE, GRAD_TOLERANCE, HOPPER

import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu

IMPLS = ["xrt", pytest.param("xrt_sm80", marks=pytest.mark.skipif(
            not HOPPER, reason="impl='xrt' already is the sm80 kernel on this GPU")),
         pytest.param("cudnn", marks=pytest.mark.skipif(
             CUDNN_MISSING is not None, reason=f"cuDNN attention cannot run: {CUDNN_MISSING}"))]


def packed_qkv(rng, b, length, h, d, dtype):
    """q, k, v: (b, h, length, d) xrt views of one packed CUDA tensor, and their float64 values."""
    packed64 = ref.random(rng, (b, length, 3, h, d), dtype)[1]
    packed = torch_tensor(packed64, dtype)
    views = [xrt.from_dlpack(packed[:, :, i].transpose(1, 2)) for i in range(3)]
    views64 = [packed64[:, :, i].transpose(0, 2, 1, 3) for i in range(3)]
    return views, views64


def seq_major_strides(shape):
    b, h, length, d = shape
    return (length * h * d, d, h * d, 1)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("impl", IMPLS)
def test_packed_qkv_forward(rng, impl, dtype, d, causal):
    b, length, h = 2, 200, 3
    (q, k, v), (q64, k64, v64) = packed_qkv(rng, b, length, h, d, dtype)
    assert q.strides == (length * 3 * h * d, d, 3 * h * d, 1)
    poison_pool(*[((b, h, length, d), dtype)] * 5)
    out = ops.attention(q, k, v, causal=causal, impl=impl)
    assert out.strides == seq_major_strides(out.shape)
    check_norm(out, ref.attention(q64, k64, v64, causal), dtype, FORWARD_TOLERANCE[dtype])


@pytest.mark.parametrize("impl", ["xrt", pytest.param("cudnn", marks=pytest.mark.skipif(
    CUDNN_MISSING is not None, reason=f"cuDNN attention cannot run: {CUDNN_MISSING}"))])
@pytest.mark.parametrize("with_lse", [False, True])
def test_packed_qkv_backward_gives_gradients_in_the_inputs_layout(rng, impl, with_lse):
    b, length, h, d, dtype = 2, 150, 4, 64, "bfloat16"
    (q, k, v), (q64, k64, v64) = packed_qkv(rng, b, length, h, d, dtype)
    # The output gradient as torch gives it for a (b, seq, h*d) projection.
    grad_bshd64 = ref.random(rng, (b, length, h, d), dtype)[1]
    grad = xrt.from_dlpack(torch_tensor(grad_bshd64, dtype).transpose(1, 2))
    grad64 = grad_bshd64.transpose(0, 2, 1, 3)
    saved = {}
    if with_lse:
        out, lse = ops.attention(q, k, v, causal=True, return_lse=True, impl=impl)
        saved = {"output": out, "lse": lse}
    poison_pool(*[((b, h, length, d), dtype)] * 8)
    grads = ops.attention_backward(grad, q, k, v, causal=True, impl=impl, **saved)
    want = ref.attention_backward(grad64, q64, k64, v64, True)
    for name, got, expected in zip(("dq", "dk", "dv"), grads, want):
        assert got.strides == seq_major_strides(got.shape), name
        try:
            check_norm(got, expected, dtype, GRAD_TOLERANCE)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
