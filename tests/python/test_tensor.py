import gc

import numpy as np
import pytest
from reference import ALL_DTYPES, BFLOAT16

import xpuruntime as xrt


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_zeros_for_every_dtype(dtype):
    t = xrt.zeros((2, 3, 4), dtype=dtype)
    assert t.shape == (2, 3, 4)
    assert t.strides == (12, 4, 1)  # elements, not bytes
    assert t.dtype == np.dtype(dtype)
    assert t.device == xrt.Device("cpu")
    assert (t.ndim, t.size, len(t)) == (3, 24, 2)
    assert t.nbytes == 24 * np.dtype(dtype).itemsize
    assert not t.numpy().astype(np.float64).any()


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_empty_for_every_dtype(dtype):
    t = xrt.empty([5], dtype)
    assert (t.shape, t.dtype, t.strides) == ((5,), np.dtype(dtype), (1,))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_asarray_round_trips_every_dtype(rng, dtype):
    values = rng.standard_normal((3, 5)) * 50
    if np.dtype(dtype).kind == "u":
        values = np.abs(values)  # negative floats have no unsigned value
    data = values.astype(np.dtype(dtype))
    t = xrt.asarray(data)
    assert t.dtype == data.dtype
    assert t.numpy().dtype == data.dtype
    np.testing.assert_array_equal(t.numpy(), data)
    np.testing.assert_array_equal(np.asarray(t), data)
    assert np.asarray(t).dtype == data.dtype


def test_bfloat16_is_ml_dtypes():
    t = xrt.asarray(np.array([1.5, -2.0], dtype=BFLOAT16))
    assert t.dtype == BFLOAT16
    assert t.numpy().dtype == BFLOAT16
    assert t.numpy().tolist() == [1.5, -2.0]


def test_dtype_accepts_numpy_types_and_names():
    assert xrt.zeros(1, np.int16).dtype == np.int16
    assert xrt.zeros(1, "bfloat16").dtype == BFLOAT16
    assert xrt.zeros(1, np.dtype("f8")).dtype == np.float64


def test_shape_forms():
    assert xrt.empty(7).shape == (7,)
    assert xrt.empty(np.int64(3)).shape == (3,)
    assert xrt.empty(()).shape == ()
    assert xrt.empty(np.array([2, 3])).shape == (2, 3)


def test_asarray_nested_lists_and_scalars():
    t = xrt.asarray([[1.0, 2.0], [3.0, 4.0]])
    assert (t.shape, t.dtype) == ((2, 2), np.float64)
    assert t.numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    s = xrt.asarray(2.5)
    assert (s.shape, s.ndim, s.size) == ((), 0, 1)
    assert float(s.numpy()) == 2.5
    with pytest.raises(TypeError, match="0-d"):
        len(s)
    assert xrt.asarray([True, False]).dtype == np.bool_


def test_asarray_dtype_converts():
    t = xrt.asarray([1, 2, 3], dtype="float32")
    assert t.dtype == np.float32
    assert xrt.asarray(t, dtype="float64").numpy().tolist() == [1.0, 2.0, 3.0]
    assert xrt.asarray(t, dtype="float32") is t


def test_asarray_of_a_tensor_is_itself():
    t = xrt.zeros(3)
    assert xrt.asarray(t) is t
    assert xrt.asarray(t, device="cpu") is t
    assert t.to("cpu") is t
    assert t.to(xrt.Device("cpu"), stream=xrt.Stream()) is t


def test_non_contiguous_arrays_keep_their_strides():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    t = xrt.asarray(base.T)
    assert t.shape == (6, 4)
    assert t.strides == (1, 6)
    np.testing.assert_array_equal(t.numpy(), base.T)
    sliced = xrt.asarray(base[::2, 1::3])
    assert sliced.strides == (12, 3)
    np.testing.assert_array_equal(sliced.numpy(), base[::2, 1::3])


def test_strides_that_are_not_whole_elements_are_copied():
    record = np.zeros(4, dtype=[("a", np.int8), ("b", np.float32)])
    field = record["b"]  # stride 5 bytes, item 4 bytes
    t = xrt.asarray(field)
    assert t.strides == (1,)
    record["b"] = 7.0
    assert t.numpy().tolist() == [0.0] * 4


def test_non_native_byte_order_is_converted():
    data = np.arange(4, dtype=">f4")
    t = xrt.asarray(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), data)


def test_empty_tensors():
    t = xrt.zeros((0, 3))
    assert (t.shape, t.size, t.nbytes) == ((0, 3), 0, 0)
    assert t.numpy().shape == (0, 3)
    assert xrt.asarray(np.empty((2, 0), np.float32)).shape == (2, 0)


def test_repr_shows_values_and_device():
    text = repr(xrt.asarray(np.array([1.0, 2.0], np.float32)))
    assert "1." in text and "float32" in text and "'cpu'" in text


def test_tensors_cannot_be_built_directly():
    with pytest.raises(TypeError, match="asarray"):
        xrt.Tensor()


def test_release_twice_and_use_after_release():
    t = xrt.zeros(4)
    view = t.numpy()
    t.release()
    t.release()
    with pytest.raises(xrt.InvalidArgument, match="released"):
        t.shape
    with pytest.raises(xrt.InvalidArgument, match="released"):
        xrt.ops.add(t, t)
    assert "released" in repr(t)
    view[:] = 3.0  # the view holds its own reference
    assert view.sum() == 12.0
    del t
    gc.collect()
    assert view.sum() == 12.0
