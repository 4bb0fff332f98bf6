# Tensor: one C tensor handle plus its (immutable) description.

cdef object _np_asarray = np.asarray


cdef class Tensor:
    """An n-dimensional array owned by the runtime, on one device.

    Create tensors with :func:`asarray`, :func:`empty`, :func:`zeros` or
    :func:`from_dlpack`. ``strides`` are in elements (torch's convention);
    the buffer protocol and ``numpy()`` give numpy's byte strides.
    """

    cdef xrt_tensor_t* handle
    cdef xrt_tensor_info_t info
    cdef object __weakref__

    def __init__(self, *args, **kwargs):
        raise TypeError("create tensors with xpuruntime.asarray, empty, zeros or from_dlpack")

    def __dealloc__(self):
        xrt_tensor_release(self.handle)

    cdef inline xrt_tensor_t* _live(self) except NULL:
        if self.handle == NULL:
            raise InvalidArgument("tensor has been released")
        return self.handle

    cdef inline bint _on_host(self) except -1:
        self._live()
        return _device_from_handle(self.info.device).host_memory

    @property
    def shape(self):
        self._live()
        return tuple([self.info.shape[i] for i in range(self.info.ndim)])

    @property
    def strides(self):
        """Strides in elements, not bytes."""
        self._live()
        return tuple([self.info.strides[i] for i in range(self.info.ndim)])

    @property
    def dtype(self):
        self._live()
        return _dtype_of(self.info.dtype)

    @property
    def device(self):
        self._live()
        return _device_from_handle(self.info.device)

    @property
    def ndim(self):
        self._live()
        return self.info.ndim

    @property
    def size(self):
        self._live()
        return self.info.numel

    @property
    def nbytes(self):
        self._live()
        return self.info.nbytes

    def __len__(self):
        self._live()
        if self.info.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.info.shape[0]

    def __repr__(self):
        if self.handle == NULL:
            return "Tensor(<released>)"
        meta = f"dtype={self.dtype.name}, device={self.device.name!r}"
        if not self._on_host():
            return f"Tensor(shape={self.shape}, {meta})"
        body = np.array2string(self.numpy(), separator=", ", prefix="Tensor(", threshold=64)
        return f"Tensor({body}, {meta})"

    def numpy(self):
        """A numpy array of the contents.

        On the host this is a zero-copy view that keeps the memory alive (it
        stays valid after ``release()``); elsewhere it is a copy.
        """
        if not self._on_host():
            return self.to("cpu").numpy()
        if _buffer_format(self.info.dtype) != NULL:
            # The buffer protocol is cheaper than __array_interface__; the
            # exported buffer holds its own reference to the tensor.
            return _np_asarray(PyMemoryView_FromObject(self))
        array = np.asarray(_HostView.of(self))
        dtype = _dtype_of(self.info.dtype)
        return array if array.dtype == dtype else array.view(dtype)

    def __array__(self, dtype=None, copy=None):
        target = self.dtype if dtype is None else np.dtype(dtype)
        converts = target != self.dtype
        if copy is False and (converts or not self._on_host()):
            raise ValueError("numpy asked for no copy, but this tensor needs one "
                             f"({self.dtype} on {self.device.name} as {target})")
        array = self.numpy()
        if converts:
            return array.astype(target)
        return array.copy() if copy else array

    def to(self, device, stream=None):
        """The tensor on ``device``: itself when already there, else a copy."""
        cdef xrt_device_t* dev = _device_handle(device)
        cdef xrt_stream_t* s = _stream_handle(stream)
        cdef xrt_tensor_t* out = NULL
        cdef xrt_status_t status
        self._live()
        if dev == self.info.device:
            return self
        cdef xrt_tensor_t* src = _retained(self)
        with nogil:
            status = xrt_tensor_to(src, dev, s, &out)
            xrt_tensor_release(src)
        check(status)
        return _tensor_from_handle(out)

    def release(self):
        """Drops this object's reference now; later use raises. Repeating it does nothing."""
        cdef xrt_tensor_t* handle = self.handle
        self.handle = NULL
        xrt_tensor_release(handle)

    def __getbuffer__(self, Py_buffer* buffer, int flags):
        _export_buffer(self, buffer, flags)

    def __releasebuffer__(self, Py_buffer* buffer):
        cdef _BufferDims* dims = <_BufferDims*>buffer.internal
        xrt_tensor_release(dims.handle)
        PyMem_Free(dims)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return _to_dlpack(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        return _dlpack_device(self)

    @property
    def __cuda_array_interface__(self):
        return _cuda_array_interface(self)


cdef Tensor _tensor_from_handle(xrt_tensor_t* handle):
    """Wraps a new reference (the Tensor takes it over)."""
    cdef Tensor tensor = Tensor.__new__(Tensor)
    tensor.handle = handle
    tensor.info.struct_size = sizeof(xrt_tensor_info_t)
    check(xrt_tensor_info(handle, &tensor.info))
    return tensor


cdef inline xrt_tensor_t* _retained(Tensor tensor) except NULL:
    """A new reference to the tensor's handle, for a call to hold while it
    runs (release it after): the object's release() or a Python callback
    on the way cannot then free the memory under the call."""
    cdef xrt_tensor_t* handle = tensor._live()
    check(xrt_tensor_retain(handle))
    return handle


cdef class _HostView:
    """Describes a host tensor to numpy and holds its own reference to it, so
    arrays outlive the Tensor object and its release()."""

    cdef xrt_tensor_t* handle
    cdef dict interface

    @staticmethod
    cdef _HostView of(Tensor tensor):
        cdef _HostView view = _HostView.__new__(_HostView)
        cdef xrt_tensor_info_t* info = &tensor.info
        cdef object dtype = _dtype_of(info.dtype)
        check(xrt_tensor_retain(tensor.handle))
        view.handle = tensor.handle
        itemsize = dtype.itemsize
        view.interface = {
            "version": 3,
            "shape": tuple([info.shape[i] for i in range(info.ndim)]),
            "strides": tuple([info.strides[i] * itemsize for i in range(info.ndim)]),
            # numpy() views ml_dtypes' types back from their carrier.
            "typestr": _CARRIERS[info.dtype].str,
            "data": (<size_t>info.data, bool(info.read_only)),
        }
        return view

    def __dealloc__(self):
        xrt_tensor_release(self.handle)

    @property
    def __array_interface__(self):
        return self.interface


# Shape and byte strides handed out with a buffer, plus the reference that
# keeps the memory alive until the consumer releases the buffer.
ctypedef struct _BufferDims:
    xrt_tensor_t* handle
    Py_ssize_t shape[XRT_MAX_DIMS]
    Py_ssize_t strides[XRT_MAX_DIMS]


cdef inline bint _wants(int flags, int request) noexcept:
    return (flags & request) == request


cdef int _export_buffer(Tensor tensor, Py_buffer* buffer, int flags) except -1:
    cdef xrt_tensor_info_t* info = &tensor.info
    cdef _BufferDims* dims
    cdef Py_ssize_t itemsize
    cdef xrt_status_t status
    if not tensor._on_host():
        raise BufferError(f"a tensor on {tensor.device.name} has no host buffer; use .to('cpu') or DLPack")
    if _buffer_format(info.dtype) == NULL:
        raise BufferError(f"{_dtype_of(info.dtype).name} has no buffer-protocol format; "
                          "use .numpy() or DLPack")
    if _wants(flags, PyBUF_WRITABLE) and info.read_only:
        raise BufferError("tensor is read-only; a writable buffer was requested")
    if _wants(flags, PyBUF_F_CONTIGUOUS) and info.ndim > 1:
        raise BufferError("tensors export C-ordered buffers; a Fortran-contiguous one was requested")
    if not info.contiguous and (not _wants(flags, PyBUF_STRIDES) or _wants(flags, PyBUF_C_CONTIGUOUS)
                                or _wants(flags, PyBUF_ANY_CONTIGUOUS)):
        raise BufferError("tensor is not contiguous; a contiguous buffer was requested")
    dims = <_BufferDims*>PyMem_Malloc(sizeof(_BufferDims))
    if dims == NULL:
        raise MemoryError()
    status = xrt_tensor_retain(tensor.handle)
    if status != XRT_OK:
        PyMem_Free(dims)
        check(status)
    dims.handle = tensor.handle
    itemsize = _dtype_of(info.dtype).itemsize
    for i in range(info.ndim):
        dims.shape[i] = info.shape[i]
        dims.strides[i] = info.strides[i] * itemsize
    buffer.buf = info.data
    buffer.obj = tensor
    buffer.len = info.nbytes
    buffer.itemsize = itemsize
    buffer.readonly = info.read_only
    buffer.ndim = info.ndim
    buffer.format = <char*>_buffer_format(info.dtype) if _wants(flags, PyBUF_FORMAT) else NULL
    buffer.shape = dims.shape if _wants(flags, PyBUF_ND) else NULL
    buffer.strides = dims.strides if _wants(flags, PyBUF_STRIDES) else NULL
    buffer.suboffsets = NULL
    buffer.internal = dims
    return 0
