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
    cdef int64_t inline_extents[XRT_MAX_DIMS]
    cdef int32_t ndim = 0
    cdef int64_t* extents = _read_extents(shape, inline_extents, &ndim)
    cdef xrt_dtype_t code
    cdef xrt_device_t* dev
    cdef xrt_tensor_t* out = NULL
    try:
        code = _spec_code(dtype)
        dev = _device_handle("cpu" if device is None else device)
        with nogil:
            if zeros:
                check(xrt_tensor_zeros(dev, code, ndim, extents, &out))
            else:
                check(xrt_tensor_create(dev, code, ndim, extents, &out))
    finally:
        if extents != inline_extents:
            PyMem_Free(extents)
    return _tensor_from_handle(out)


cdef Tensor _new_pinned(object shape, object dtype, object device):
    if _device_handle("cpu" if device is None else device) != _cpu_handle():
        raise InvalidArgument(f"pinned memory is host memory; device must be 'cpu', got {device!r}")
    cdef int64_t inline_extents[XRT_MAX_DIMS]
    cdef int32_t ndim = 0
    cdef int64_t* extents = _read_extents(shape, inline_extents, &ndim)
    cdef xrt_dtype_t code
    cdef xrt_tensor_t* out = NULL
    try:
        code = _spec_code(dtype)
        with nogil:
            check(xrt_tensor_create_pinned(code, ndim, extents, &out))
    finally:
        if extents != inline_extents:
            PyMem_Free(extents)
    return _tensor_from_handle(out)


cdef int64_t* _read_extents(object shape, int64_t* inline_extents, int32_t* ndim) except NULL:
    """int64 extents of a shape (an int or a sequence of ints) into
    inline_extents, or, beyond XRT_MAX_DIMS (where the runtime names the
    limit), into a PyMem_Malloc'd array the caller frees."""
    if type(shape) is not tuple:
        try:
            shape = (operator_index(shape),)
        except TypeError:
            shape = tuple(shape)
    cdef Py_ssize_t count = len(shape), i
    if count > INT32_MAX:
        raise InvalidArgument(f"shape has {count} dimensions; at most {XRT_MAX_DIMS} are supported")
    cdef int64_t* extents = inline_extents
    if count > XRT_MAX_DIMS:
        extents = <int64_t*>PyMem_Malloc(count * sizeof(int64_t))
        if extents == NULL:
            raise MemoryError()
    try:
        for i in range(count):
            extents[i] = operator_index(shape[i])
    except OverflowError:
        if extents != inline_extents:
            PyMem_Free(extents)
        raise InvalidArgument(f"shape {shape} has an extent that does not fit in int64") from None
    except BaseException:
        if extents != inline_extents:
            PyMem_Free(extents)
        raise
    ndim[0] = <int32_t>count
    return extents


def _wrap_address(address, shape, dtype, device, owner=None):
    """A contiguous Tensor over memory someone else owns, at ``address`` on
    ``device`` (IO binding's raw pointers). ``owner``, when given, is kept
    alive as long as the tensor; otherwise the caller keeps the memory."""
    cdef xrt_device_t* dev = _device_handle(device)
    cdef int64_t extents[XRT_MAX_DIMS]
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status
    cdef xrt_dtype_t code = _spec_code(dtype)
    cdef uintptr_t data = operator_index(address)
    dims = [operator_index(d) for d in shape]
    if len(dims) > XRT_MAX_DIMS:
        raise InvalidArgument(f"shape {tuple(dims)} has more than {XRT_MAX_DIMS} dimensions")
    if data == 0 and any(dims):
        raise InvalidArgument("buffer address is 0 (NULL) for a non-empty tensor")
    for i, extent in enumerate(dims):
        extents[i] = extent
    Py_INCREF(owner)
    status = xrt_tensor_wrap(dev, code, len(dims), extents, NULL, <void*>data, _wrapped_deleter,
                             <void*>owner, &out)
    if status != XRT_OK:
        Py_XDECREF(<PyObject*>owner)
        check(status)
    return _tensor_from_handle(out)


def _copy_into(Tensor dst, Tensor src, stream=None):
    """Copies ``src`` into ``dst`` (same shape and dtype, any devices)."""
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* d = _retained(dst)
    cdef xrt_tensor_t* c = _retained(src)
    cdef xrt_status_t status
    with nogil:
        status = xrt_tensor_copy(d, c, s)
        xrt_tensor_release(d)
        xrt_tensor_release(c)
    check(status)
