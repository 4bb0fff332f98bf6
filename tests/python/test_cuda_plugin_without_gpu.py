"""The CUDA plugin on a machine without the NVIDIA driver (CI, a wheel on a
laptop): listed as unavailable with a reason that says so."""
import ctypes

import pytest

import xpuruntime as xrt


def _driver_present():
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def test_cuda_backend_without_a_driver_says_no_driver():
    cuda = next((b for b in xrt.backends() if b.name == "cuda"), None)
    if cuda is None:
        pytest.skip("this build has no CUDA plugin (nvcc was not found when it was built)")
    if _driver_present():
        pytest.skip("the NVIDIA driver is installed here")
    assert not cuda.available
    assert "no NVIDIA driver or GPU found" in cuda.reason, cuda.reason
    assert "insufficient" not in cuda.reason.lower(), cuda.reason
