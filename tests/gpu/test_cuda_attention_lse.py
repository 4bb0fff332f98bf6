"""attention with return_lse=True and attention_backward given the forward's
output and lse on cuda:0, for each implementation, against float64
references and torch; outputs poisoned before each launch."""

import numpy as np
import pytest
import reference as ref
from cuda_util import check_norm, poison_pool, random, values
from test_cuda_attention import (CUDNN_MISSING, DTYPES, FORWARD_TOLERANCE, IMPLS, check_grads,
                                 operands, shape_for)

from xpuruntime import ops

pytestmark = pytest.mark.gpu

# The lse is float32 computed from scores of exact half inputs.
LSE_TOLERANCE = 2e-3


def forward_with_lse(rng, b, h, lq, lk, d, dtype, causal, impl):
    (q, k, v), (q64, k64, v64) = operands(rng, b, h, lq, lk, d, dtype)
    poison_pool(((b, h, lq, d), dtype), ((b, h, lq), "float32"))
    out, lse = ops.attention(q, k, v, causal=causal, impl=impl, return_lse=True)
    check_norm(out, ref.attention(q64, k64, v64, causal), dtype, FORWARD_TOLERANCE[dtype])
    want = ref.attention_lse(q64, k64, v64, causal)
    np.testing.assert_allclose(values(lse, "float32", want.shape), want, rtol=LSE_TOLERANCE,
                               atol=LSE_TOLERANCE)
    return (q, k, v), (q64, k64, v64), out, lse


def check_backward_given(rng, b, h, lq, lk, d, dtype, causal, forward_impl, backward_impl):
    (q, k, v), (q64, k64, v64), out, lse = forward_with_lse(rng, b, h, lq, lk, d, dtype, causal,
                                                            forward_impl)
    grad, grad64 = random(rng, (b, h, lq, d), dtype)
    poison_pool(((b, h, lq, d), dtype), ((b, h, lk, d), dtype), ((b, h, lk, d), dtype))
    got = ops.attention_backward(grad, q, k, v, causal=causal, output=out, lse=lse,
                                 impl=backward_impl)
    check_grads(got, (grad64, q64, k64, v64), dtype, causal)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("length", [1, 127, 1000])
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLS)
def test_forward_with_lse(rng, impl, dtype, d, length, causal):
    forward_with_lse(rng, *shape_for(length), length, length, d, dtype, causal, impl)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lq, lk", [(17, 17), (1000, 1000), (64, 200), (200, 64)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLS)
def test_backward_from_output_and_lse(rng, impl, dtype, lq, lk, causal):
    check_backward_given(rng, *shape_for(max(lq, lk)), lq, lk, 64, dtype, causal, impl, impl)


NEEDS_CUDNN = pytest.mark.skipif(CUDNN_MISSING is not None,
                                 reason=f"cuDNN attention cannot run: {CUDNN_MISSING}")


@pytest.mark.parametrize("forward_impl, backward_impl", [
    pytest.param("cudnn", "xrt", marks=NEEDS_CUDNN), pytest.param("xrt", "cudnn", marks=NEEDS_CUDNN),
    ("xrt_sm80", "xrt"), ("xrt", "xrt_sm80")])
def test_implementations_share_the_lse(rng, forward_impl, backward_impl):
    # All mean the same log-sum-exp, so each backward takes each forward's.
    check_backward_given(rng, 2, 3, 300, 300, 128, "bfloat16", True, forward_impl, backward_impl)
