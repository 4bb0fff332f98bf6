import gc
import re
import weakref

import numpy as np
import pytest
from reference import BFLOAT16

import xpuruntime as xrt


def test_dlpack_device_is_the_cpu():
    assert xrt.zeros(2).__dlpack_device__() == (1, 0)


def test_capsule_names():
    t = xrt.zeros(2)
    assert '"dltensor_versioned"' in repr(t.__dlpack__(max_version=(1, 0)))
    assert '"dltensor"' in repr(t.__dlpack__())
    assert '"dltensor"' in repr(t.__dlpack__(max_version=(0, 8)))


def test_capsule_for_a_newer_consumer_is_ours():
    """A consumer newer than us gets the newest version we have (1.x)."""
    assert '"dltensor_versioned"' in repr(xrt.zeros(2).__dlpack__(max_version=(99, 0)))


@pytest.mark.parametrize("max_version", ["1.0", (1,), (1, 0, 0), (1.0, 0), None.__class__])
def test_malformed_max_version_is_named(max_version):
    with pytest.raises(TypeError, match=r"DLPack max_version must be None or a \(major, minor\) "
                                        rf"pair of ints, got {re.escape(repr(max_version))}"):
        xrt.zeros(2).__dlpack__(max_version=max_version)


@pytest.mark.parametrize("stream", ["0", 1.5, object])
def test_stream_that_is_no_int_is_named_on_the_cpu_too(stream):
    with pytest.raises(xrt.InvalidArgument, match=r"DLPack stream must be None or an int .*, "
                                                  rf"got {re.escape(repr(stream))}"):
        xrt.zeros(2).__dlpack__(stream=stream)


def test_numpy_from_xrt_is_zero_copy():
    t = xrt.zeros((2, 3), "float32")
    array = np.from_dlpack(t)
    array[1, 1] = 4.0
    assert t.numpy()[1, 1] == 4.0
    del t
    gc.collect()
    assert array[1, 1] == 4.0


def test_xrt_from_numpy_is_zero_copy():
    data = np.zeros(5, np.int32)
    t = xrt.from_dlpack(data)
    data[2] = 9
    assert t.numpy()[2] == 9
    t.numpy()[3] = 8
    assert data[3] == 8


def test_strided_export():
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    np.testing.assert_array_equal(np.from_dlpack(xrt.asarray(base.T)), base.T)
    np.testing.assert_array_equal(xrt.from_dlpack(base[:, ::2]).numpy(), base[:, ::2])


def test_legacy_capsule_both_ways():
    t = xrt.asarray(np.arange(4, dtype=np.float32))
    imported = xrt.from_dlpack(t.__dlpack__())
    imported.numpy()[0] = 10.0
    assert t.numpy()[0] == 10.0
    data = np.arange(3.0)
    from_numpy = xrt.from_dlpack(data.__dlpack__())
    data[1] = 7.0
    assert from_numpy.numpy()[1] == 7.0


class LegacyProducer:
    """A producer from before DLPack 1.0: __dlpack__ takes no max_version."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, stream=None):
        return self.array.__dlpack__()

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


def test_from_dlpack_falls_back_to_the_legacy_call():
    data = np.arange(6.0)
    t = xrt.from_dlpack(LegacyProducer(data))
    data[5] = -1.0
    assert t.numpy()[5] == -1.0


def test_capsule_consumed_twice():
    capsule = np.arange(3.0).__dlpack__(max_version=(1, 0))
    xrt.from_dlpack(capsule)
    with pytest.raises(xrt.InvalidArgument, match="already consumed"):
        xrt.from_dlpack(capsule)
    legacy = np.arange(3.0).__dlpack__()
    xrt.from_dlpack(legacy)
    with pytest.raises(xrt.InvalidArgument, match="already consumed"):
        xrt.from_dlpack(legacy)


def test_not_a_capsule():
    with pytest.raises(TypeError, match="DLPack"):
        xrt.from_dlpack(object())


def test_unsupported_dtype_from_numpy():
    with pytest.raises(xrt.Unsupported, match="complex"):
        xrt.from_dlpack(np.ones(3, np.complex64))


def test_unconsumed_capsule_frees_the_tensor():
    data = np.arange(4.0)
    alive = weakref.ref(data)
    t = xrt.asarray(data)
    versioned, legacy = t.__dlpack__(max_version=(1, 0)), t.__dlpack__()
    del data, t
    gc.collect()
    assert alive() is not None
    del versioned
    gc.collect()
    assert alive() is not None
    del legacy
    gc.collect()
    assert alive() is None


def test_read_only_export():
    data = np.arange(3.0)
    data.flags.writeable = False
    t = xrt.asarray(data)
    assert not np.from_dlpack(t).flags.writeable
    with pytest.raises(BufferError, match="read-only"):
        t.__dlpack__()


def test_copy_and_dl_device():
    t = xrt.zeros(3)
    copied = np.from_dlpack(t, copy=True)
    copied[0] = 1.0
    assert t.numpy()[0] == 0.0
    shared = np.from_dlpack(t, copy=False)
    shared[1] = 2.0
    assert t.numpy()[1] == 2.0
    np.from_dlpack(t, device="cpu")
    with pytest.raises(BufferError, match="copy=False"):
        t.__dlpack__(max_version=(1, 0), dl_device=(2, 0), copy=False)


def test_bfloat16_through_dlpack():
    t = xrt.asarray(np.array([0.5, 3.0], dtype=BFLOAT16))
    back = xrt.from_dlpack(t.__dlpack__(max_version=(1, 0)))
    assert back.dtype == BFLOAT16
    assert back.numpy().tolist() == [0.5, 3.0]


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="torch is not installed")


def test_torch_from_xrt_is_zero_copy(torch):
    t = xrt.zeros((2, 2), "float32")
    tt = torch.from_dlpack(t)
    tt[0, 1] = 3.0
    assert t.numpy()[0, 1] == 3.0
    t.numpy()[1, 0] = 5.0
    assert tt[1, 0].item() == 5.0


def test_xrt_from_torch_is_zero_copy(torch):
    tt = torch.zeros(4, dtype=torch.float64)
    t = xrt.from_dlpack(tt)
    assert (t.shape, t.dtype) == ((4,), np.float64)
    tt[2] = 6.0
    assert t.numpy()[2] == 6.0
    t.numpy()[3] = 1.5
    assert tt[3].item() == 1.5
    assert xrt.asarray(tt).numpy()[2] == 6.0


def test_torch_strided_and_bfloat16(torch):
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    np.testing.assert_array_equal(xrt.from_dlpack(base.t()).numpy(), base.t().numpy())
    bf = torch.tensor([1.0, -2.5], dtype=torch.bfloat16)
    t = xrt.from_dlpack(bf)
    assert t.dtype == BFLOAT16 and t.numpy().tolist() == [1.0, -2.5]
    back = torch.from_dlpack(t)
    assert back.dtype == torch.bfloat16 and back.tolist() == [1.0, -2.5]


def test_ops_take_torch_tensors(torch):
    x = torch.randn(4, 8, dtype=torch.float64)
    out = xrt.ops.gelu(x)
    assert isinstance(out, xrt.Tensor)
    np.testing.assert_allclose(out.numpy(), torch.nn.functional.gelu(x).numpy(), rtol=1e-12,
                               atol=1e-12)


def test_torch_legacy_capsule(torch):
    t = xrt.zeros(3, "float32")
    tt = torch.utils.dlpack.from_dlpack(t.__dlpack__())
    tt[0] = 2.0
    assert t.numpy()[0] == 2.0


def test_unsupported_dtype_from_torch(torch):
    with pytest.raises(xrt.Unsupported, match="complex"):
        xrt.from_dlpack(torch.ones(2, dtype=torch.complex64))
