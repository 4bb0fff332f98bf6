# Constructors: asarray, empty, zeros.

def asarray(obj, device=None, dtype=None):
    """A Tensor holding ``obj``, without copying where possible.

    A Tensor is returned as is (or moved to ``device``). numpy arrays and
    buffer-protocol objects are shared zero-copy (the tensor keeps them
    alive; non-contiguous arrays keep their strides). Objects with
    ``__dlpack__`` (torch tensors, ...) are imported with :func:`from_dlpack`.
    Anything else (nested lists, scalars) goes through ``numpy.asarray``.
    ``dtype`` converts, copying only when it differs.
    """
    cdef Tensor tensor
    wanted = None if dtype is None else _as_dtype(dtype)
    if isinstance(obj, Tensor):
        tensor = obj
    elif not isinstance(obj, np.ndarray) and hasattr(obj, "__dlpack__"):
        tensor = from_dlpack(obj)
    else:
        if not isinstance(obj, np.ndarray) and PyObject_CheckBuffer(obj):
            obj = memoryview(obj)  # numpy would turn bytes into a scalar
        tensor = _wrap_ndarray(np.asarray(obj, dtype=wanted))
    if wanted is not None and tensor.dtype != wanted:
        if device is None:
            device = tensor.device
        tensor = _wrap_ndarray(tensor.numpy().astype(wanted))
    if device is not None:
        tensor = tensor.to(device)
    return tensor


def empty(shape, dtype="float32", device="cpu", *, pinned=False):
    """A new contiguous tensor with uninitialised contents.

    ``pinned=True`` (host tensors only) takes page-locked memory, so copies
    to and from GPUs run at full speed and asynchronously.
    """
    if pinned:
        return _new_pinned(shape, dtype, device)
    return _new_tensor(shape, dtype, device, False)


def zeros(shape, dtype="float32", device="cpu"):
    """A new contiguous tensor filled with zeros."""
    return _new_tensor(shape, dtype, device, True)


# Codes by the dtype spec callers pass ("float32", np.float32, a dtype):
# np.dtype() costs more than the allocation itself.
cdef dict _SPEC_CODES = {}


cdef xrt_dtype_t _spec_code(object spec) except XRT_DTYPE_COUNT:
    try:
        return _SPEC_CODES[spec]
    except (KeyError, TypeError):
        pass
    cdef xrt_dtype_t code = _dtype_code(_as_dtype(spec))
    try:
        _SPEC_CODES[spec] = code
    except TypeError:  # unhashable spec: not cached
        pass
    return code


cdef Tensor _new_tensor(object shape, object dtype, object device, bint zeros):
    cdef int64_t extents[XRT_MAX_DIMS]
    cdef const int64_t[::1] dims
    cdef const int64_t* c_extents = extents
    cdef Py_ssize_t ndim, i
    if isinstance(shape, tuple) and len(shape) <= XRT_MAX_DIMS:
        ndim = len(shape)
        try:
            for i in range(ndim):
                extents[i] = operator_index(shape[i])
        except OverflowError:
            _shape_array(shape)  # raises InvalidArgument naming the shape
    else:  # ints, lists, long shapes: the runtime names what is wrong
        dims = _shape_array(shape)
        ndim = dims.shape[0]
        c_extents = &dims[0] if ndim else extents
    cdef xrt_dtype_t code = _spec_code(dtype)
    cdef xrt_device_t* dev = _device_handle("cpu" if device is None else device)
    cdef xrt_tensor_t* out = NULL
    with nogil:
        if zeros:
            check(xrt_tensor_zeros(dev, code, <int32_t>ndim, c_extents, &out))
        else:
            check(xrt_tensor_create(dev, code, <int32_t>ndim, c_extents, &out))
    return _tensor_from_handle(out)


cdef Tensor _new_pinned(object shape, object dtype, object device):
    if _device_handle("cpu" if device is None else device) != _cpu_handle():
        raise InvalidArgument(f"pinned memory is host memory; device must be 'cpu', got {device!r}")
    cdef int64_t placeholder = 0
    cdef const int64_t[::1] dims = _shape_array(shape)
    cdef int32_t ndim = <int32_t>dims.shape[0]
    cdef const int64_t* extents = &dims[0] if ndim else &placeholder
    cdef xrt_dtype_t code = _spec_code(dtype)
    cdef xrt_tensor_t* out = NULL
    with nogil:
        check(xrt_tensor_create_pinned(code, ndim, extents, &out))
    return _tensor_from_handle(out)


cdef object _shape_array(object shape):
    """int64 extents (an array.array, read through a typed memoryview: the
    Limited API has no direct access to its storage) from an int or a
    sequence of ints; the runtime validates them."""
    try:
        shape = (operator_index(shape),)
    except TypeError:
        shape = tuple(shape)
    try:
        return array.array("q", [operator_index(d) for d in shape])
    except OverflowError:
        raise InvalidArgument(f"shape {shape} has an extent that does not fit in int64") from None
