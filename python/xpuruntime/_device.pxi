# Devices. C device handles live until the process exits, so one Device
# object per handle is cached and compared by handle.

cdef str _text(const char* value):
    """A C string the runtime owns, as str ("" for NULL)."""
    return value.decode("utf-8", "replace") if value != NULL else ""


cdef class Device:
    """A device of the runtime: ``Device("cpu")``, ``Device("cuda:0")``, or
    one of any kind a plugin brings, ``Device("npu:0")``. ``kind`` is the
    kind's name; ``host_memory`` says whether its tensors are host memory
    (numpy reads them directly)."""

    cdef xrt_device_t* handle
    cdef xrt_device_kind_t _kind
    cdef readonly bint host_memory
    cdef readonly str name
    cdef readonly str kind
    cdef readonly int index
    cdef readonly str description
    cdef readonly object total_memory
    cdef readonly int compute_units
    cdef readonly int compute_capability

    def __init__(self, name):
        self._fill(_device_handle(name))

    cdef int _fill(self, xrt_device_t* handle) except -1:
        cdef xrt_device_info_t info
        memset(&info, 0, sizeof(info))
        info.struct_size = sizeof(info)
        check(xrt_device_info(handle, &info))
        self.handle = handle
        self._kind = info.kind
        self.name = info.name.decode()
        self.kind = _text(info.kind_name)
        self.host_memory = info.host_memory != 0
        self.index = info.index
        self.description = _text(info.description)
        self.total_memory = info.total_memory
        self.compute_units = info.compute_units
        self.compute_capability = info.compute_capability
        return 0

    def __eq__(self, other):
        if isinstance(other, Device):
            return self.handle == (<Device>other).handle
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"Device({self.name!r})"

    def __str__(self):
        return self.name

    def __reduce__(self):
        return (Device, (self.name,))


cdef dict _device_cache = {}
# The device asked for last, without the dict: nearly every call (each
# tensor's numpy(), each run's outputs) names the same one. Both entries
# live until exit, like the handles.
cdef xrt_device_t* _last_handle = NULL
cdef Device _last_device = None


cdef Device _device_from_handle(xrt_device_t* handle):
    global _last_handle, _last_device
    if handle == _last_handle:
        return _last_device
    key = <size_t>handle
    device = _device_cache.get(key)
    if device is None:
        device = Device.__new__(Device)
        (<Device>device)._fill(handle)
        _device_cache[key] = device
    _last_device = <Device>device
    _last_handle = handle
    return <Device>device


# Device handles live until the process exits, so names resolve once.
cdef dict _HANDLES_BY_NAME = {}


cdef xrt_device_t* _device_handle(object device) except NULL:
    """Handle for a Device or a name ("cpu", "cuda:1")."""
    cdef xrt_device_t* handle = NULL
    cdef bytes name
    cdef const char* c_name
    if isinstance(device, Device):
        return (<Device>device).handle
    if isinstance(device, str):
        cached = _HANDLES_BY_NAME.get(device)
        if cached is not None:
            return <xrt_device_t*><uintptr_t>cached
        name = _c_text(device, "device name", lookup=True)
        c_name = name
        # The first lookup may start the runtime and load plugins.
        with nogil:
            check(xrt_device_by_name(c_name, &handle))
        _HANDLES_BY_NAME[device] = <uintptr_t>handle
        return handle
    raise TypeError(f"device must be a str or xpuruntime.Device, not {type(device).__name__}")


cdef xrt_device_t* _cpu = NULL


cdef xrt_device_t* _cpu_handle() except NULL:
    global _cpu
    if _cpu == NULL:
        _cpu = _device_handle("cpu")
    return _cpu


def devices():
    """Every device the runtime can use, CPU first."""
    cdef int32_t count = 0
    cdef xrt_device_t* handle = NULL
    with nogil:
        check(xrt_device_count(&count))
    result = []
    for i in range(count):
        check(xrt_device_get(i, &handle))
        result.append(_device_from_handle(handle))
    return result
