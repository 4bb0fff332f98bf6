"""Many Python threads sharing cuda:0, each with its own stream."""

import gc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import reference as ref
from cuda_util import DEVICE

import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu

THREADS = 8
ROUNDS = 200


def work(seed):
    local = np.random.default_rng(seed)
    stream = xrt.Stream(DEVICE)
    a, a64 = ref.random(local, (16, 96), "float32")
    b, b64 = ref.random(local, (16, 96), "float32")
    w, w64 = ref.random(local, 96, "float32")
    expected = ref.layer_norm(a64 + b64, w64, w64)
    for _ in range(ROUNDS):
        ta = xrt.asarray(a, device=DEVICE)
        tb = xrt.asarray(b, device=DEVICE)
        tw = xrt.asarray(w, device=DEVICE)
        total = ops.add(ta, tb, stream=stream)
        out = ops.layer_norm(total, tw, tw, stream=stream)
        stream.synchronize()
        ref.check(out, expected, "float32")
        for tensor in (ta, tb, tw, total, out):
            tensor.release()
    return True


def test_threads_with_their_own_streams(rng):
    gc.collect()
    xrt.synchronize(DEVICE)
    start = xrt.memory_stats(DEVICE)["allocated_bytes"]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        assert all(pool.map(work, rng.integers(0, 2**32, size=THREADS)))
    gc.collect()
    xrt.synchronize(DEVICE)
    assert xrt.memory_stats(DEVICE)["allocated_bytes"] == start
