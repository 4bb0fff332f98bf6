"""Grouped-query attention on cuda:0: the flash forwards and cuDNN (forward
and backward) read k and v with fewer heads than q, checked against the
float64 closed form and torch's SDPA in the same dtype. cuDNN with the mask
keywords: test_cuda_attention_cudnn_masks.py."""

import pytest
from cuda_util import check_norm, float64, poison_pool, random, torch, torch_tensor
from test_cuda_attention import CUDNN_MISSING

import attention_reference as aref
from xpuruntime import ops

pytestmark = pytest.mark.gpu

FORWARD_TOLERANCE = {"float16": 5e-3, "bfloat16": 1e-2}
GRAD_TOLERANCE = 2e-2
CUDNN = pytest.param("cudnn", marks=pytest.mark.skipif(
    CUDNN_MISSING is not None, reason=f"cuDNN attention cannot run: {CUDNN_MISSING}"))


def _operands(rng, b, h, hk, lq, lk, d, dtype):
    q, q64 = random(rng, (b, h, lq, d), dtype)
    k, k64 = random(rng, (b, hk, lk, d), dtype)
    v, v64 = random(rng, (b, hk, lk, d), dtype)
    return (q, k, v), (q64, k64, v64)


def _torch(q64, k64, v64, dtype, causal, grad64=None):
    q, k, v = (torch_tensor(x, dtype).requires_grad_(grad64 is not None) for x in (q64, k64, v64))
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                                           enable_gqa=True)
    if grad64 is None:
        return float64(out)
    return [float64(g) for g in torch.autograd.grad(out, (q, k, v), torch_tensor(grad64, dtype))]


def _seen(lq, lk, causal):
    return aref.visible(lq, lk, causal)


@pytest.mark.parametrize("impl", [None, "xrt", "xrt_sm80", CUDNN])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("h,hk", [(8, 2), (8, 1), (4, 4)])
@pytest.mark.parametrize("lq,lk,causal", [(1, 1, False), (127, 128, True), (300, 1000, False),
                                          (1000, 1000, True)])
def test_grouped_forward(rng, impl, dtype, d, h, hk, lq, lk, causal):
    b = 2
    (q, k, v), (q64, k64, v64) = _operands(rng, b, h, hk, lq, lk, d, dtype)
    poison_pool(((b, h, lq, d), dtype))
    got = ops.attention(q, k, v, causal=causal, impl=impl)
    want, _ = aref.forward(q64, k64, v64, _seen(lq, lk, causal))
    check_norm(got, want, dtype, FORWARD_TOLERANCE[dtype])
    check_norm(got, _torch(q64, k64, v64, dtype, causal), dtype, FORWARD_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("h,hk", [(8, 2), (8, 1)])
@pytest.mark.parametrize("lq,lk,causal", [(127, 128, True), (300, 1000, False)])
def test_grouped_backward_cudnn(rng, dtype, h, hk, lq, lk, causal):
    if CUDNN_MISSING is not None:
        pytest.skip(f"cuDNN attention cannot run: {CUDNN_MISSING}")
    b, d = 2, 128
    (q, k, v), (q64, k64, v64) = _operands(rng, b, h, hk, lq, lk, d, dtype)
    grad, grad64 = random(rng, (b, h, lq, d), dtype)
    poison_pool(((b, h, lq, d), dtype), ((b, hk, lk, d), dtype), ((b, hk, lk, d), dtype))
    got = ops.attention_backward(grad, q, k, v, causal=causal, impl="cudnn")
    want = aref.backward(grad64, q64, k64, v64, _seen(lq, lk, causal))
    theirs = _torch(q64, k64, v64, dtype, causal, grad64)
    for ours, expected, torch_grad in zip(got, want, theirs):
        check_norm(ours, expected, dtype, GRAD_TOLERANCE)
        check_norm(ours, torch_grad, dtype, GRAD_TOLERANCE)
