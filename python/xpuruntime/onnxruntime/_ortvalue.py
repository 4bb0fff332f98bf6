"""OrtValue: onnxruntime's value handle, as a view of an xrt Tensor.

No copy is made: ``ortvalue_from_numpy`` on the host shares the array's
memory, ``numpy()`` of a host value shares the tensor's, and a value on a
GPU stays there until ``numpy()`` copies it out.
"""

import numpy as np

from .. import _core
from ..errors import InvalidArgument

# onnxruntime's device_type strings and the xrt device kinds they name.
_DEVICE_KINDS = {"cpu": "cpu", "cuda": "cuda"}


def xrt_device(device_type, device_id=0):
    """The xrt device name for onnxruntime's (device_type, device_id)."""
    kind = _DEVICE_KINDS.get(str(device_type).lower())
    if kind is None:
        raise InvalidArgument(f"device_type {device_type!r} is not supported; expected one of "
                              f"{sorted(_DEVICE_KINDS)}")
    return "cpu" if kind == "cpu" else f"{kind}:{int(device_id)}"


class OrtValue:
    """onnxruntime.OrtValue over an xrt Tensor (``.tensor``)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        if not isinstance(tensor, _core.Tensor):
            raise TypeError(f"OrtValue wraps an xpuruntime Tensor, not {type(tensor).__name__} "
                            "(use OrtValue.ortvalue_from_numpy)")
        self.tensor = tensor

    @staticmethod
    def ortvalue_from_numpy(numpy_obj, device_type="cpu", device_id=0, vendor_id=-1):
        """The array as a value on the device: the same memory on the host
        (a copy where the array is not C-contiguous, as onnxruntime makes),
        a copy on a GPU."""
        if not isinstance(numpy_obj, np.ndarray):
            raise TypeError(f"ortvalue_from_numpy takes a numpy array, not "
                            f"{type(numpy_obj).__name__}")
        numpy_obj = np.ascontiguousarray(numpy_obj)
        return OrtValue(_core.asarray(numpy_obj, device=xrt_device(device_type, device_id)))

    @staticmethod
    def ortvalue_from_shape_and_type(shape, element_type, device_type="cpu", device_id=0,
                                     vendor_id=-1):
        """A new value with uninitialised contents."""
        return OrtValue(_core.empty(tuple(shape), np.dtype(element_type),
                                    xrt_device(device_type, device_id)))

    def numpy(self):
        return self.tensor.numpy()

    def device_name(self):
        return self.tensor.device.kind

    def shape(self):
        return list(self.tensor.shape)

    def data_type(self):
        return _core._ort_type_name(self.tensor.dtype)

    def element_type(self):
        return self.tensor.dtype.type

    def data_ptr(self):
        if self.tensor.device.kind == "cpu":
            return self.tensor.numpy().ctypes.data
        return self.tensor.__cuda_array_interface__["data"][0]

    def has_value(self):
        return True

    def is_tensor(self):
        return True

    def is_tensor_sequence(self):
        return False

    def is_sparse_tensor(self):
        return False

    def update_inplace(self, np_arr):
        """Copies ``np_arr`` (same shape and dtype) into the value's memory."""
        np_arr = np.asarray(np_arr)
        if np_arr.shape != self.tensor.shape or np_arr.dtype != self.tensor.dtype:
            raise InvalidArgument(f"update_inplace got {np_arr.dtype}{list(np_arr.shape)}, the "
                                  f"value is {self.tensor.dtype}{list(self.tensor.shape)}")
        if self.tensor.device.kind == "cpu":
            np.copyto(self.tensor.numpy(), np_arr)
        else:
            source = _core.asarray(np.ascontiguousarray(np_arr), device=self.tensor.device)
            _core._copy_into(self.tensor, source)

    def __repr__(self):
        return (f"OrtValue({self.data_type()}, shape={self.shape()}, "
                f"device={self.tensor.device.name!r})")
