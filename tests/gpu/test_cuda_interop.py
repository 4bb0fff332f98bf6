"""Sharing CUDA memory with torch and cupy, ordering across streams, copies to and from the host."""

import gc

import numpy as np
import pytest
import reference as ref
from cuda_util import DEVICE, address, float64, poison_pool, spin, torch, torch_tensor

import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu


class InterfaceOnly:
    """Shows a tensor to consumers through __cuda_array_interface__ alone (no DLPack)."""

    def __init__(self, tensor):
        self.tensor = tensor  # keeps the memory alive
        self.__cuda_array_interface__ = tensor.__cuda_array_interface__


def on_device(rng, shape=(256, 256)):
    """float32 data on cuda:0, the copy finished, so any stream may read it."""
    data = rng.standard_normal(shape).astype(np.float32)
    tensor = xrt.asarray(data, device=DEVICE)
    xrt.synchronize(DEVICE)
    return tensor, data


def test_torch_shares_xrt_memory():
    t = xrt.asarray(np.arange(12, dtype=np.float32).reshape(3, 4), device=DEVICE)
    shared = torch.from_dlpack(t)
    assert shared.data_ptr() == address(t)
    assert shared.device == torch.device(DEVICE)
    shared[1, 2] = -1.0
    assert t.numpy()[1, 2] == -1.0


def test_xrt_shares_torch_memory():
    source = torch.arange(12, dtype=torch.float32, device=DEVICE).reshape(3, 4)
    t = xrt.from_dlpack(source)
    assert address(t) == source.data_ptr()
    assert (t.device, t.shape, t.dtype) == (xrt.Device(DEVICE), (3, 4), np.float32)
    source.mul_(2)
    expected = 2 * np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(ops.add(t, t).numpy(), 2 * expected)
    del source
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), expected)  # the import keeps torch's memory


def test_cupy_shares_memory_both_ways():
    cupy = pytest.importorskip("cupy")
    t = xrt.asarray(np.arange(6, dtype=np.float32), device=DEVICE)
    viewed = cupy.from_dlpack(t)
    assert viewed.data.ptr == address(t)
    viewed[0] = 5
    assert t.numpy()[0] == 5
    source = cupy.arange(6, dtype=cupy.float32)
    imported = xrt.from_dlpack(source)
    assert address(imported) == source.data.ptr
    source[1] = 7
    assert imported.numpy()[1] == 7


def test_cupy_reads_the_cuda_array_interface():
    cupy = pytest.importorskip("cupy")
    t = xrt.asarray(np.arange(6, dtype=np.float32), device=DEVICE)
    viewed = cupy.asarray(InterfaceOnly(t))
    assert viewed.data.ptr == address(t)
    np.testing.assert_array_equal(cupy.asnumpy(viewed), np.arange(6, dtype=np.float32))


def test_torch_reads_the_cuda_array_interface():
    t = xrt.asarray(np.arange(6, dtype=np.float32), device=DEVICE)
    viewed = torch.as_tensor(InterfaceOnly(t), device=DEVICE)
    assert viewed.data_ptr() == address(t)
    viewed[2] = -3.0
    assert t.numpy()[2] == -3.0


def test_cuda_array_interface_fields():
    t = xrt.asarray(np.zeros((3, 4), np.float32), device=DEVICE)
    interface = t.__cuda_array_interface__
    assert interface["version"] == 3
    assert interface["typestr"] == "<f4"
    assert interface["shape"] == (3, 4)
    assert interface["strides"] is None
    assert interface["stream"] == 1
    assert interface["data"] == (torch.from_dlpack(t).data_ptr(), False)
    strided = xrt.from_dlpack(torch.zeros(4, 3, dtype=torch.float16, device=DEVICE).T)
    interface = strided.__cuda_array_interface__
    assert (interface["typestr"], interface["shape"], interface["strides"]) == ("<f2", (3, 4),
                                                                                 (2, 6))
    assert not hasattr(xrt.zeros(2), "__cuda_array_interface__")


def test_torch_on_a_side_stream_waits_for_our_default_stream(rng):
    x, data = on_device(rng)
    poison_pool(((256, 256), "float32"))
    spin(torch.cuda.default_stream())  # the legacy default stream, ours too
    y = ops.add(x, x)
    side = torch.cuda.Stream()  # does not wait for the default stream by itself
    with torch.cuda.stream(side):
        copied = torch.from_dlpack(y).clone()
    side.synchronize()
    np.testing.assert_array_equal(copied.cpu().numpy(), 2 * data)


def test_ops_run_on_a_wrapped_torch_stream(rng):
    x, data = on_device(rng)
    side = torch.cuda.Stream()
    stream = xrt.Stream.wrap(DEVICE, side.cuda_stream)
    assert stream.native_handle == side.cuda_stream
    spin(side)
    y = ops.add(x, x, stream=stream)
    done = xrt.Event(DEVICE)
    done.record(stream)
    assert not done.query(), "the op did not queue behind torch's work on the stream"
    done.synchronize()
    assert done.query()
    np.testing.assert_array_equal(y.numpy(), 2 * data)


def test_a_stream_waits_for_an_event(rng):
    x, data = on_device(rng)
    side = torch.cuda.Stream()
    producer = xrt.Stream.wrap(DEVICE, side.cuda_stream)
    consumer = xrt.Stream(DEVICE)
    spin(side)
    ready = xrt.Event(DEVICE)
    ready.record(producer)
    consumer.wait_event(ready)
    y = ops.add(x, x, stream=consumer)
    done = xrt.Event(DEVICE)
    done.record(consumer)
    assert not done.query(), "the consumer did not wait for the event"
    consumer.synchronize()
    assert ready.query()
    np.testing.assert_array_equal(y.numpy(), 2 * data)


def test_events_time_kernels(rng):
    a, _ = on_device(rng, (1024, 1024))
    ops.matmul(a, a)  # loads cuBLASLt and plans the shape outside the timed span
    start, end = xrt.Event(DEVICE), xrt.Event(DEVICE)
    start.record()
    for _ in range(10):
        ops.matmul(a, a)
    end.record()
    end.synchronize()
    assert end.query()
    assert start.elapsed_time(end) > 0


def host_data(rng, dtype, shape):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in ("uint8", "int8", "int16", "int32", "int64"):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return ref.random(rng, shape, dtype)[0]


@pytest.mark.parametrize("dtype", ref.ALL_DTYPES)
def test_host_device_round_trip(rng, dtype):
    data = host_data(rng, dtype, (37, 129))
    t = xrt.asarray(data, device=DEVICE)
    assert (t.device, t.dtype, t.shape) == (xrt.Device(DEVICE), data.dtype, data.shape)
    back = t.numpy()
    assert back.dtype == data.dtype and back.tobytes() == data.tobytes()
    strided = data[::3, ::-2]
    assert xrt.asarray(strided, device=DEVICE).numpy().tobytes() == strided.tobytes()
    stream = xrt.Stream(DEVICE)
    again = t.to("cpu", stream=stream)
    stream.synchronize()
    assert again.device == "cpu" and again.numpy().tobytes() == data.tobytes()


def test_to_the_own_device_is_the_tensor_itself():
    t = xrt.zeros(3, "float32", DEVICE)
    assert t.to(DEVICE) is t


def test_device_copies_of_a_strided_tensor(rng):
    _, x64 = ref.random(rng, (37, 129), "float32")
    source = torch_tensor(x64, "float32")[::2, ::3].T
    expected = x64[::2, ::3].T
    t = xrt.from_dlpack(source)
    assert t.strides == (3, 258)
    copy = torch.utils.dlpack.from_dlpack(t.__dlpack__(copy=True))  # a device-to-device copy
    assert copy.is_contiguous() and copy.data_ptr() != source.data_ptr()
    np.testing.assert_array_equal(float64(copy), expected)
    np.testing.assert_array_equal(t.numpy(), expected)  # device to host


# Layouts whose inner runs travel as 16-, 8- or 4-byte words, and ones that
# cannot (odd run lengths, an address off the word boundary).
WIDE_COPY_CASES = [
    ("float16", (2, 33, 4, 64), lambda t: t.transpose(1, 2)),  # (b, s, h, d) as (b, h, s, d)
    ("bfloat16", (3, 17, 5, 12), lambda t: t.transpose(1, 2)),  # 24-byte runs: 8-byte words
    ("float32", (40, 6), lambda t: t[:, 2:4]),                   # 8-byte runs at 8-byte offsets
    ("float32", (40, 6), lambda t: t[:, 1:4]),                   # 12-byte runs: no wider word
    ("float64", (7, 9, 10), lambda t: t[:, ::2, 4:8]),           # 32-byte runs
    ("float16", (9, 64), lambda t: t[:, 1:]),                    # shifted by one element
]


@pytest.mark.parametrize("dtype, shape, view", WIDE_COPY_CASES)
def test_strided_copies_in_wide_words(rng, dtype, shape, view):
    _, x64 = ref.random(rng, shape, dtype)
    source = view(torch_tensor(x64, dtype))
    assert not source.is_contiguous()
    copy = torch.utils.dlpack.from_dlpack(xrt.from_dlpack(source).__dlpack__(copy=True))
    assert copy.is_contiguous()
    np.testing.assert_array_equal(float64(copy), float64(source))
