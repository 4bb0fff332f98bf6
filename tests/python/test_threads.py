from concurrent.futures import ThreadPoolExecutor

import numpy as np
import reference as ref

import xpuruntime as xrt
from xpuruntime import ops


def test_ops_from_many_threads(rng):
    seeds = rng.integers(0, 2**32, size=8)

    def work(seed):
        local = np.random.default_rng(seed)
        for _ in range(20):
            a, a64 = ref.random(local, (16, 32), "float32")
            b, b64 = ref.random(local, (32, 8), "float32")
            ref.check(ops.gelu(ops.matmul(xrt.asarray(a), b)), ref.gelu(a64 @ b64), "float32")
            ref.check(ops.add(a, 1.0), a64 + 1.0, "float32")
            ref.check(ops.softmax(a), ref.softmax(a64), "float32")
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, seeds))
