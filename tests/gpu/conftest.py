"""GPU tests: skipped as a whole unless cuda:0 and a CUDA build of torch are usable."""

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# reference.py (float64 references, tolerances) is shared with tests/python.
sys.path[:0] = [HERE, os.path.join(HERE, os.pardir, "python")]

import xpuruntime as xrt  # noqa: E402


def _why_skipped():
    try:
        xrt.Device("cuda:0")
    except xrt.Error as error:
        return f"no cuda:0: {error}"
    try:
        import torch
    except ImportError:
        return "torch is not installed (the GPU tests use it for interop and busy streams)"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} has no usable CUDA"
    return None


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if str(item.path).startswith(HERE + os.sep)]
    if not mine:
        return
    reason = _why_skipped()
    if reason:
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def rng():
    """Fresh random data every run; the seed is printed so a failure can be replayed."""
    seed = np.random.SeedSequence().entropy
    print(f"rng seed: {seed}")
    return np.random.default_rng(seed)
