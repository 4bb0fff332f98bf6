"""Stream, device and memory API that works the same whether or not a GPU is
present; the GPU side itself is covered by tests/gpu."""
import numpy as np
import pytest

import xpuruntime as xrt
from xpuruntime import ops


def _cuda_backend():
    return next((b for b in xrt.backends() if b.name == "cuda"), None)


def test_cpu_streams_have_no_native_handle():
    stream = xrt.Stream("cpu")
    assert stream.native_handle == 0
    wrapped = xrt.Stream.wrap("cpu", 0)
    assert wrapped.device == "cpu" and wrapped.native_handle == 0
    event = xrt.Event("cpu")
    event.record(stream)
    wrapped.wait_event(event)
    stream.synchronize()
    xrt.synchronize("cpu")


def test_cpu_has_no_foreign_streams_to_wrap():
    with pytest.raises(xrt.InvalidArgument, match="cpu has no native streams"):
        xrt.Stream.wrap("cpu", 1234)


@pytest.mark.parametrize("handle", [-1, 1 << 64])
def test_native_handle_outside_an_address_is_named(handle):
    with pytest.raises(xrt.InvalidArgument, match=rf"native_handle must be an address from 0 to "
                                                  rf"0x[f]+, got {handle}"):
        xrt.Stream.wrap("cpu", handle)


def test_waiting_for_an_unrecorded_event_is_refused():
    with pytest.raises(xrt.InvalidArgument, match="never recorded"):
        xrt.Stream("cpu").wait_event(xrt.Event("cpu"))


def test_ops_take_a_stream(rng):
    stream = xrt.Stream("cpu")
    x = rng.standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(ops.add(x, x, stream=stream).numpy(), 2 * x)
    np.testing.assert_allclose(ops.matmul(x, x.T, stream=stream, allow_tf32=True).numpy(),
                               x @ x.T, rtol=1e-5)
    assert ops.run("gelu", x, stream=stream).shape == (3, 5)


def test_a_stream_of_another_device_is_refused():
    if len(xrt.devices()) < 2:
        pytest.skip("needs a second device")
    gpu = xrt.devices()[1]
    with pytest.raises(xrt.InvalidArgument, match="the stream belongs to"):
        ops.add(np.ones(2, np.float32), np.ones(2, np.float32), stream=xrt.Stream(gpu))


def test_missing_gpu_names_why():
    backend = _cuda_backend()
    if backend is not None and backend.available:
        pytest.skip("a CUDA GPU is present")
    with pytest.raises(xrt.NotFound, match="cuda:0") as info:
        xrt.Device("cuda:0")
    if backend is not None:  # built with nvcc: the reason is the driver or GPU
        assert backend.reason in str(info.value)


def test_pinned_memory_without_a_gpu_backend():
    backend = _cuda_backend()
    if backend is not None and backend.available:
        pytest.skip("a CUDA GPU is present")
    with pytest.raises(xrt.Unsupported, match="page-locked"):
        xrt.empty((4,), pinned=True)

