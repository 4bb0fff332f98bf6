"""Host tensors and the buffer protocol: zero copy both ways, and lifetimes."""

import ctypes
import gc
import hashlib
import weakref

import numpy as np
import pytest
from reference import BFLOAT16

import xpuruntime as xrt

PyBUF_WRITABLE = 0x0001
PyBUF_FULL_RO = 0x011C


class _PyBuffer(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.py_object), ("len", ctypes.c_ssize_t),
                ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int),
                ("ndim", ctypes.c_int), ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p),
                ("strides", ctypes.c_void_p), ("suboffsets", ctypes.c_void_p),
                ("internal", ctypes.c_void_p)]


def request_buffer(obj, flags):
    """PyObject_GetBuffer with exactly these flags (memoryview never asks for writable)."""
    view = _PyBuffer()
    ctypes.pythonapi.PyObject_GetBuffer(ctypes.py_object(obj), ctypes.byref(view), flags)
    ctypes.pythonapi.PyBuffer_Release(ctypes.byref(view))


def test_memoryview_describes_the_tensor():
    t = xrt.asarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    view = memoryview(t)
    assert (view.format, view.itemsize, view.shape, view.strides) == ("i", 4, (2, 3), (12, 4))
    assert not view.readonly
    assert view.obj is t


def test_numpy_view_of_a_tensor_is_zero_copy():
    t = xrt.zeros((2, 3), "float32")
    array = np.asarray(t)
    array[1, 2] = 5.0
    memoryview(t)[0, 0] = 7.0
    assert t.numpy()[1, 2] == 5.0
    assert array[0, 0] == 7.0
    assert np.shares_memory(array, t.numpy())


def test_tensor_of_a_numpy_array_is_zero_copy():
    data = np.zeros(8, np.float64)
    t = xrt.asarray(data)
    data[3] = 2.5
    assert t.numpy()[3] == 2.5
    np.asarray(t)[4] = -1.0
    assert data[4] == -1.0


def test_other_buffer_objects_are_wrapped():
    data = bytearray(b"\x01\x02\x03")
    t = xrt.asarray(data)
    assert (t.dtype, t.shape) == (np.uint8, (3,))
    data[0] = 9
    assert t.numpy()[0] == 9


def test_views_outlive_the_tensor():
    t = xrt.asarray(np.arange(5, dtype=np.float32))
    by_buffer, by_numpy, by_view = np.asarray(t), t.numpy(), memoryview(t)
    del t
    gc.collect()
    np.testing.assert_array_equal(by_buffer, np.arange(5))
    np.testing.assert_array_equal(by_numpy, np.arange(5))
    assert by_view.tolist() == [0, 1, 2, 3, 4]


def test_buffer_survives_release():
    t = xrt.zeros(4, "int64")
    view = memoryview(t)
    t.release()
    view[2] = 11
    assert view.tolist() == [0, 0, 11, 0]


def test_tensor_keeps_the_array_alive_and_then_lets_go():
    data = np.arange(10.0)
    alive = weakref.ref(data)
    t = xrt.asarray(data)
    del data
    gc.collect()
    assert alive() is not None
    np.testing.assert_array_equal(t.numpy(), np.arange(10.0))
    del t
    gc.collect()
    assert alive() is None


def test_read_only_arrays_give_read_only_tensors():
    data = np.arange(4.0)
    data.flags.writeable = False
    t = xrt.asarray(data)
    assert memoryview(t).readonly
    assert not t.numpy().flags.writeable
    assert not np.asarray(t).flags.writeable
    request_buffer(t, PyBUF_FULL_RO)
    with pytest.raises(BufferError, match="read-only"):
        request_buffer(t, PyBUF_FULL_RO | PyBUF_WRITABLE)
    with pytest.raises(TypeError):
        memoryview(t)[0] = 1.0


def test_writable_buffer_of_a_writable_tensor():
    request_buffer(xrt.zeros(3), PyBUF_FULL_RO | PyBUF_WRITABLE)


def test_bytes_are_read_only():
    t = xrt.asarray(b"abc")
    assert (t.dtype, t.numpy().tolist()) == (np.uint8, [97, 98, 99])
    assert memoryview(t).readonly


def test_read_only_bfloat16():
    data = np.array([1.0, 2.0], dtype=BFLOAT16)
    data.flags.writeable = False
    t = xrt.asarray(data)
    assert t.dtype == BFLOAT16
    assert not t.numpy().flags.writeable
    assert t.numpy().tolist() == [1.0, 2.0]


def test_strided_tensor_exports_byte_strides():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = xrt.asarray(base.T)
    view = memoryview(t)
    assert view.strides == (4, 16)
    np.testing.assert_array_equal(np.asarray(t), base.T)
    with pytest.raises(BufferError, match="contiguous"):
        hashlib.sha256(t)  # asks for a contiguous buffer


def test_bfloat16_has_no_buffer_format_but_numpy_still_works():
    t = xrt.asarray(np.ones(3, dtype=BFLOAT16))
    with pytest.raises(BufferError, match="bfloat16"):
        memoryview(t)
    array = np.asarray(t)  # numpy falls back to __array__
    assert array.dtype == BFLOAT16
    array[0] = 4.0
    assert t.numpy()[0] == 4.0


def test_array_protocol_copy_and_dtype():
    t = xrt.asarray(np.arange(3, dtype=np.float32))
    copied = np.array(t, copy=True)
    copied[0] = 100
    assert t.numpy()[0] == 0
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="float64"):
        t.__array__(np.float64, copy=False)
