# Zero-copy tensors over numpy arrays. The tensor holds a reference to the
# array and drops it (under the GIL, from whichever thread releases the
# tensor) when the runtime lets go of the memory.

cdef extern from "Python.h":
    int Py_IsInitialized() nogil

# numpy's limit on dimensions (NPY_MAXDIMS); the runtime checks its own.
cdef enum:
    _NUMPY_MAX_DIMS = 64


cdef void _drop_reference(void* obj) noexcept nogil:
    # After interpreter shutdown the object is gone with it: leak, don't crash.
    if obj == NULL or not Py_IsInitialized():
        return
    with gil:
        Py_XDECREF(<PyObject*>obj)


cdef void _wrapped_deleter(void* data, void* context) noexcept nogil:
    _drop_reference(context)


cdef void _readonly_deleter(DLManagedTensorVersioned* managed) noexcept nogil:
    _drop_reference(managed.manager_ctx)
    free(managed)


cdef Tensor _wrap_ndarray(object array):
    """A host tensor sharing ``array``'s memory.

    Writable arrays go through xrt_tensor_wrap. That call cannot mark memory
    read-only, so read-only arrays are imported as a DLPack managed tensor
    flagged read-only, which the runtime honours.
    """
    cdef Py_buffer view
    cdef int64_t shape[_NUMPY_MAX_DIMS]
    cdef int64_t strides[_NUMPY_MAX_DIMS]
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status
    dtype = array.dtype
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
        dtype = array.dtype
    cdef xrt_dtype_t code = _dtype_code(dtype)
    cdef Py_ssize_t itemsize = dtype.itemsize
    if any(stride % itemsize for stride in array.strides):
        array = np.ascontiguousarray(array)
    # No PyBUF_FORMAT: numpy cannot describe ml_dtypes' types in one, and the dtype is known.
    PyObject_GetBuffer(array, &view, PyBUF_STRIDES)
    cdef int32_t ndim = view.ndim
    for i in range(ndim):
        shape[i] = view.shape[i]
        strides[i] = view.strides[i] // itemsize
    cdef void* data = view.buf
    cdef bint read_only = view.readonly
    PyBuffer_Release(&view)

    if read_only:
        return _import_readonly(array, code, ndim, shape, strides, data)
    Py_INCREF(array)
    status = xrt_tensor_wrap(_cpu_handle(), code, ndim, shape, strides, data, _wrapped_deleter,
                             <void*>array, &out)
    if status != XRT_OK:
        Py_XDECREF(<PyObject*>array)
        check(status)
    return _tensor_from_handle(out)


cdef Tensor _import_readonly(object owner, xrt_dtype_t code, int32_t ndim, int64_t* shape,
                             int64_t* strides, void* data):
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status
    cdef DLManagedTensorVersioned* managed = <DLManagedTensorVersioned*>malloc(
        sizeof(DLManagedTensorVersioned) + 2 * max(ndim, 1) * sizeof(int64_t))
    if managed == NULL:
        raise MemoryError()
    cdef int64_t* dims = <int64_t*>(managed + 1)
    for i in range(ndim):
        dims[i] = shape[i]
        dims[ndim + i] = strides[i]
    dl_code, bits = _DLPACK_TYPES[code]
    managed.version.major = DLPACK_MAJOR_VERSION
    managed.version.minor = DLPACK_MINOR_VERSION
    managed.manager_ctx = <void*>owner
    managed.deleter = _readonly_deleter
    managed.flags = DLPACK_FLAG_BITMASK_READ_ONLY
    managed.dl_tensor.data = data
    managed.dl_tensor.device.device_type = kDLCPU
    managed.dl_tensor.device.device_id = 0
    managed.dl_tensor.ndim = ndim
    managed.dl_tensor.dtype.code = dl_code
    managed.dl_tensor.dtype.bits = bits
    managed.dl_tensor.dtype.lanes = 1
    managed.dl_tensor.shape = dims
    managed.dl_tensor.strides = dims + ndim
    managed.dl_tensor.byte_offset = 0
    Py_INCREF(owner)
    status = xrt_tensor_from_dlpack(managed, &out)
    if status != XRT_OK:
        Py_XDECREF(<PyObject*>owner)
        free(managed)
        check(status)
    return _tensor_from_handle(out)
