# Exchange with other array libraries: DLPack both ways, and the CUDA array
# interface for CUDA tensors.

cdef tuple _dlpack_device(Tensor tensor):
    tensor._live()
    cdef Device device = _device_from_handle(tensor.info.device)
    if device.host_memory:
        return (kDLCPU, 0)
    if device._kind == XRT_DEVICE_CUDA:
        return (kDLCUDA, device.index)
    raise Unsupported(f"DLPack has no device type for {device.name} "
                      "(exported are host-memory and cuda devices)")


cdef object _device_for_dlpack(object dl_device):
    device_type, device_id = dl_device
    if device_type == kDLCPU:
        return "cpu"
    if device_type == kDLCUDA:
        return f"cuda:{device_id}"
    raise BufferError(f"cannot export to DLPack device {tuple(dl_device)}")


cdef void _versioned_capsule_destructor(object capsule) noexcept:
    # A consumer renames the capsule when it takes the tensor over; only an
    # unconsumed capsule still owns it.
    cdef DLManagedTensorVersioned* managed
    if PyCapsule_IsValid(capsule, "dltensor_versioned"):
        managed = <DLManagedTensorVersioned*>PyCapsule_GetPointer(capsule, "dltensor_versioned")
        if managed.deleter != NULL:
            managed.deleter(managed)


cdef void _legacy_capsule_destructor(object capsule) noexcept:
    cdef DLManagedTensor* managed
    if PyCapsule_IsValid(capsule, "dltensor"):
        managed = <DLManagedTensor*>PyCapsule_GetPointer(capsule, "dltensor")
        if managed.deleter != NULL:
            managed.deleter(managed)


cdef object _to_dlpack(Tensor tensor, object stream, object max_version, object dl_device,
                       object copy):
    cdef DLManagedTensorVersioned* versioned = NULL
    cdef DLManagedTensor* legacy = NULL
    cdef Tensor source = tensor
    cdef bint copied = False
    tensor._live()
    if stream is not None and not isinstance(stream, int):
        raise InvalidArgument(f"DLPack stream must be None or an int (-1, 1, 2 or a CUDA "
                              f"stream handle), got {stream!r}")
    cdef int max_major = _max_version_major(max_version)
    if dl_device is not None and tuple(dl_device) != _dlpack_device(tensor):
        if copy is False:
            raise BufferError(f"exporting to DLPack device {tuple(dl_device)} needs a copy, "
                              "and copy=False was given")
        source = tensor.to(_device_for_dlpack(dl_device))
        copied = True
    elif copy:
        source = _copy(tensor)
        copied = True
    if _dlpack_device(source)[0] == kDLCUDA:
        _order_for_consumer(source, stream)

    if max_major >= 1:
        check(xrt_tensor_to_dlpack(source._live(), &versioned))
        if copied:
            versioned.flags |= DLPACK_FLAG_BITMASK_IS_COPIED
        try:
            return PyCapsule_New(versioned, "dltensor_versioned", _versioned_capsule_destructor)
        except BaseException:
            versioned.deleter(versioned)
            raise
    if source.info.read_only:
        raise BufferError("a read-only tensor cannot be exported as a legacy DLPack capsule, "
                          "which cannot mark it read-only; pass max_version=(1, 0)")
    check(xrt_tensor_to_dlpack_legacy(source._live(), &legacy))
    try:
        return PyCapsule_New(legacy, "dltensor", _legacy_capsule_destructor)
    except BaseException:
        legacy.deleter(legacy)
        raise


cdef int _max_version_major(object max_version) except -2:
    """The major version of DLPack's ``max_version=`` (-1 for None: the
    consumer predates versioned capsules)."""
    if max_version is None:
        return -1
    try:
        major, minor = max_version
        operator_index(minor)
        return max(-1, min(operator_index(major), INT32_MAX))
    except (TypeError, ValueError):
        raise TypeError(f"DLPack max_version must be None or a (major, minor) pair of ints, "
                        f"got {max_version!r}") from None


cdef int _order_for_consumer(Tensor tensor, object stream) except -1:
    """DLPack's ``stream=``: the consumer will use the data on ``stream``.

    Work here is queued on the legacy default stream, so None and 1 (both
    mean that stream) need nothing and -1 asks for nothing; any other stream
    is made to wait for the work queued so far, without blocking the host.
    """
    if stream is None or stream == 1 or stream == -1:
        return 0
    if stream == 0:  # _to_dlpack took only None or an int
        raise InvalidArgument(f"DLPack stream must be None, -1, 1, 2 or a CUDA stream handle, "
                              f"got {stream!r}")
    _order_after_default_stream(tensor.info.device, stream)
    return 0


cdef Tensor _copy(Tensor tensor):
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status
    cdef xrt_tensor_t* src = _retained(tensor)
    cdef xrt_device_t* device = tensor.info.device
    with nogil:
        status = xrt_tensor_to(src, device, NULL, &out)
        xrt_tensor_release(src)
    check(status)
    return _tensor_from_handle(out)


def from_dlpack(obj):
    """A Tensor sharing the memory of a DLPack producer (or of a capsule)."""
    if isinstance(obj, Tensor):
        return obj
    if PyCapsule_CheckExact(obj):
        return _from_capsule(obj)
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"{type(obj).__name__} does not support DLPack (no __dlpack__)")
    kwargs = {}
    if hasattr(obj, "__dlpack_device__") and obj.__dlpack_device__()[0] == kDLCUDA:
        # Kernels here run on the device's default stream, ordered after the
        # legacy default stream.
        kwargs["stream"] = 1
    try:
        capsule = obj.__dlpack__(max_version=(1, 0), **kwargs)
    except TypeError:  # a producer from before DLPack 1.0
        capsule = obj.__dlpack__(**kwargs)
    return _from_capsule(capsule)


cdef Tensor _from_capsule(object capsule):
    cdef xrt_tensor_t* out = NULL
    cdef DLManagedTensorVersioned* versioned
    cdef DLManagedTensor* legacy
    if PyCapsule_IsValid(capsule, "dltensor_versioned"):
        versioned = <DLManagedTensorVersioned*>PyCapsule_GetPointer(capsule, "dltensor_versioned")
        check(xrt_tensor_from_dlpack(versioned, &out))
        PyCapsule_SetName(capsule, "used_dltensor_versioned")
    elif PyCapsule_IsValid(capsule, "dltensor"):
        legacy = <DLManagedTensor*>PyCapsule_GetPointer(capsule, "dltensor")
        check(xrt_tensor_from_dlpack_legacy(legacy, &out))
        PyCapsule_SetName(capsule, "used_dltensor")
    elif (PyCapsule_IsValid(capsule, "used_dltensor_versioned")
          or PyCapsule_IsValid(capsule, "used_dltensor")):
        raise InvalidArgument("DLPack capsule was already consumed; a capsule can be imported once")
    else:
        raise InvalidArgument(f"not a DLPack capsule: {capsule!r}")
    return _tensor_from_handle(out)


cdef dict _cuda_array_interface(Tensor tensor):
    tensor._live()
    cdef xrt_tensor_info_t* info = &tensor.info
    if _device_from_handle(info.device)._kind != XRT_DEVICE_CUDA:
        raise AttributeError("__cuda_array_interface__ exists only for CUDA tensors")
    dtype = _dtype_of(info.dtype)
    itemsize = dtype.itemsize
    return {
        "version": 3,
        "shape": tuple([info.shape[i] for i in range(info.ndim)]),
        "strides": None if info.contiguous else tuple([info.strides[i] * itemsize
                                                       for i in range(info.ndim)]),
        "typestr": dtype.str,
        "data": (<size_t>info.data, bool(info.read_only)),
        # Produced on the legacy default stream: consumers order themselves after it.
        "stream": 1,
    }
