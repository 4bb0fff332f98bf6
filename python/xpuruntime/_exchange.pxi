# Ops called on another library's tensors through DLPack's C exchange API
# (DLPack 1.2; torch >= 2.10 publishes it as __dlpack_c_exchange_api__ on
# torch.Tensor): each input crosses over, each output comes back, and the
# producer's current stream is read, all in C, with no Python object made
# per tensor. The producer is never imported here; its table is looked up
# on the type of the tensors passed.

from cpython.exc cimport PyErr_Occurred
from cpython.ref cimport Py_DECREF

cdef enum:
    _EXCHANGE_MAX_TYPES = 8
    _EXCHANGE_MAX_STREAMS = 32
    _EXCHANGE_MAX_DEVICES = 64
    # Built-in ops go past the plugin ABI's XRT_OP_MAX_INPUTS and _ATTRS:
    # attention_backward takes 8 inputs, attention_varlen 6 attributes.
    _EXCHANGE_MAX_INPUTS = 8
    _EXCHANGE_MAX_ATTRS = 8

# type → its table. The types are kept (strong references) so a cached
# address always names the type it was looked up for.
cdef PyObject* _exchange_types[_EXCHANGE_MAX_TYPES]
cdef const DLPackExchangeAPI* _exchange_tables[_EXCHANGE_MAX_TYPES]
cdef size_t _exchange_num_types = 0
_exchange_type_refs = []


cdef int _producer_check(int rc, str what) except -1:
    """Raises the producer's exception when one of its calls failed."""
    if rc == 0:
        return 0
    if PyErr_Occurred():
        return -1  # propagates the exception the producer set
    raise RuntimeError(f"{what} failed without saying why")


cdef const DLPackExchangeAPI* _exchange_api(object tensor, const char* op, size_t index,
                                             object name) except NULL:
    """The exchange table of tensor's type (cached per type)."""
    cls = type(tensor)
    cdef PyObject* tp = <PyObject*>cls
    cdef size_t i
    for i in range(_exchange_num_types):
        if _exchange_types[i] == tp:
            return _exchange_tables[i]
    capsule = getattr(cls, "__dlpack_c_exchange_api__", None)
    if capsule is None or not PyCapsule_IsValid(capsule, b"dlpack_exchange_api"):
        raise TypeError(f"{op.decode()}: {name} must be a tensor whose type publishes "
                        f"DLPack's C exchange API (__dlpack_c_exchange_api__), got "
                        f"{cls.__module__}.{cls.__qualname__}")
    cdef const DLPackExchangeAPI* api = <const DLPackExchangeAPI*>PyCapsule_GetPointer(
        capsule, b"dlpack_exchange_api")
    if api.header.version.major != DLPACK_MAJOR_VERSION:
        raise TypeError(f"{op.decode()}: {name}'s DLPack exchange API is version "
                        f"{api.header.version.major}.{api.header.version.minor}, this "
                        f"runtime reads {DLPACK_MAJOR_VERSION}.x")
    global _exchange_num_types
    if _exchange_num_types < _EXCHANGE_MAX_TYPES:
        _exchange_type_refs.append(cls)
        _exchange_types[_exchange_num_types] = tp
        _exchange_tables[_exchange_num_types] = api
        _exchange_num_types += 1
    return api


# xrt_stream_t wrappers of the producer's streams by (device, native
# handle), retained here; a full cache starts over (programs that make
# streams without end). A call retains the one it uses.
cdef struct _WrappedStream:
    int32_t device_id
    void* native
    xrt_stream_t* stream

cdef _WrappedStream _exchange_streams[_EXCHANGE_MAX_STREAMS]
cdef size_t _exchange_num_streams = 0
cdef xrt_device_t* _exchange_cuda_devices[_EXCHANGE_MAX_DEVICES]


cdef xrt_stream_t* _exchange_stream(const DLPackExchangeAPI* api, DLDevice device) except? NULL:
    """A retained xrt stream for the producer's current stream on `device`;
    NULL (no stream) for the CPU."""
    if device.device_type != kDLCUDA:
        return NULL
    cdef void* native = NULL
    _producer_check(api.current_work_stream(device.device_type, device.device_id, &native),
                    "the tensors' library's current_work_stream")
    global _exchange_num_streams
    cdef size_t i
    for i in range(_exchange_num_streams):
        if (_exchange_streams[i].device_id == device.device_id
                and _exchange_streams[i].native == native):
            check(xrt_stream_retain(_exchange_streams[i].stream))
            return _exchange_streams[i].stream
    if not 0 <= device.device_id < _EXCHANGE_MAX_DEVICES:
        raise InvalidArgument(f"CUDA device index {device.device_id} is out of range")
    cdef xrt_device_t* dev = _exchange_cuda_devices[device.device_id]
    if dev == NULL:
        dev = _device_handle(f"cuda:{device.device_id}")
        _exchange_cuda_devices[device.device_id] = dev
    cdef xrt_stream_t* wrapped = NULL
    check(xrt_stream_wrap(dev, native, &wrapped))
    if _exchange_num_streams == _EXCHANGE_MAX_STREAMS:
        for i in range(_exchange_num_streams):
            xrt_stream_release(_exchange_streams[i].stream)
        _exchange_num_streams = 0
    _exchange_streams[_exchange_num_streams].device_id = device.device_id
    _exchange_streams[_exchange_num_streams].native = native
    _exchange_streams[_exchange_num_streams].stream = wrapped
    _exchange_num_streams += 1
    xrt_stream_retain(wrapped)
    return wrapped


cdef enum _AttrKind:
    _ATTR_INT = 0
    _ATTR_FLOAT = 1
    _ATTR_SCALE = 2  # a float > 0, or None for the op's default (0 in C)
    _ATTR_BOOL = 3  # any value, by its truth (as the runtime's Python ops take flags)


cdef class ExchangeOp:
    """An op, callable on tensors of a library that publishes DLPack's C
    exchange API (torch.Tensor from torch 2.10 on), returning that
    library's tensors::

        layer_norm = ExchangeOp("layer_norm", ("x", "weight", "bias"), (("eps", "float"),))
        y = layer_norm(x, weight, None, 1e-5)

    Arguments are the inputs (a tensor or None), then the attributes, in
    the order given. Returns the output, or a tuple when the op has
    several. Inputs are read in place and outputs are new tensors sharing
    the runtime's memory; on a GPU the op runs on the library's current
    stream of the inputs' device. ``impl`` pins kernels as
    ``xrt_op_run_impl`` takes them (None: the dispatcher's choice)."""

    cdef bytes op
    cdef str op_name  # for messages
    cdef bytes impl
    cdef tuple input_names
    cdef size_t num_inputs
    cdef size_t num_outputs
    cdef size_t num_attrs
    cdef tuple attr_names  # bytes, kept for the attrs' name pointers
    cdef tuple attr_strs  # the same names, for messages
    cdef _AttrKind attr_kinds[_EXCHANGE_MAX_ATTRS]

    def __init__(self, str op, tuple inputs, tuple attrs=(), size_t num_outputs=1, impl=None):
        if not 1 <= len(inputs) <= _EXCHANGE_MAX_INPUTS:
            raise InvalidArgument(f"ExchangeOp {op!r}: 1 to {_EXCHANGE_MAX_INPUTS} inputs, "
                                  f"got {len(inputs)}")
        if len(attrs) > _EXCHANGE_MAX_ATTRS:
            raise InvalidArgument(f"ExchangeOp {op!r}: at most {_EXCHANGE_MAX_ATTRS} attributes")
        if not 1 <= num_outputs <= XRT_OP_MAX_OUTPUTS:
            raise InvalidArgument(f"ExchangeOp {op!r}: 1 to {XRT_OP_MAX_OUTPUTS} outputs, "
                                  f"got {num_outputs}")
        kinds = {"int": _ATTR_INT, "float": _ATTR_FLOAT, "scale": _ATTR_SCALE,
                 "bool": _ATTR_BOOL}
        self.op = _c_text(op, "op name", lookup=True)
        self.op_name = op
        self.impl = None if impl is None else _c_text(impl, "impl", lookup=True)
        self.input_names = inputs
        self.num_inputs = len(inputs)
        self.num_outputs = num_outputs
        self.num_attrs = len(attrs)
        self.attr_names = tuple(_c_text(name, "attribute name", lookup=True)
                                for name, _ in attrs)
        self.attr_strs = tuple(name for name, _ in attrs)
        for i, (name, kind) in enumerate(attrs):
            if kind not in kinds:
                raise InvalidArgument(f"ExchangeOp {op!r}: attribute {name!r} kind must be one "
                                      f"of {', '.join(kinds)}, got {kind!r}")
            self.attr_kinds[i] = kinds[kind]

    def __call__(self, *args):
        cdef size_t num_args = len(args)
        if num_args != self.num_inputs + self.num_attrs:
            raise TypeError(f"{self.op.decode()}() takes {self.num_inputs} inputs and "
                            f"{self.num_attrs} attributes, got {num_args} arguments")
        # Attributes first: their __float__/__int__ run before any handle is taken.
        cdef xrt_attr_t attrs[_EXCHANGE_MAX_ATTRS]
        cdef size_t i
        for i in range(self.num_attrs):
            self._attr(&attrs[i], i, args[self.num_inputs + i])

        cdef const DLPackExchangeAPI* api = NULL
        cdef const DLPackExchangeAPI* table = NULL
        cdef DLManagedTensorVersioned* managed = NULL
        cdef DLDevice device
        cdef xrt_tensor_t* handles[_EXCHANGE_MAX_INPUTS]
        cdef xrt_tensor_t* outs[XRT_OP_MAX_OUTPUTS]
        cdef xrt_stream_t* stream = NULL
        cdef xrt_status_t status = XRT_OK
        cdef const char* c_op = self.op
        cdef const char* c_impl = NULL if self.impl is None else <const char*>self.impl
        cdef size_t num_inputs = self.num_inputs, num_outputs = self.num_outputs
        cdef size_t num_attrs = self.num_attrs
        cdef size_t held = 0
        device.device_type = kDLCPU
        device.device_id = 0
        try:
            for i in range(num_inputs):
                value = args[i]
                handles[i] = NULL
                held = i + 1
                if value is None:
                    continue
                table = _exchange_api(value, c_op, i, self.input_names[i])
                _producer_check(table.managed_tensor_from_py_object_no_sync(<void*>value, &managed),
                                f"exporting {self.input_names[i]}")
                if api == NULL:  # the first input's library takes the outputs
                    api = table
                    device = managed.dl_tensor.device
                status = xrt_tensor_from_dlpack(managed, &handles[i])
                if status != XRT_OK:
                    managed.deleter(managed)  # ownership stays with us on failure
                    check(status)
            if api == NULL:
                raise InvalidArgument(f"{self.op.decode()}: every input is None")
            stream = _exchange_stream(api, device)
            with nogil:
                status = xrt_op_run_impl(c_op, c_impl, <const xrt_tensor_t**>handles, num_inputs,
                                         attrs, num_attrs, stream, outs, num_outputs)
        finally:
            for i in range(held):
                xrt_tensor_release(handles[i])
            xrt_stream_release(stream)
        check(status)
        if num_outputs == 1:
            return _exchange_out(api, outs, 0, 1)
        return tuple([_exchange_out(api, outs, i, num_outputs) for i in range(num_outputs)])

    cdef int _attr(self, xrt_attr_t* attr, size_t i, object value) except -1:
        """attrs[i] from value, by _attrs.pxi's rules."""
        attr.name = <const char*>self.attr_names[i]
        cdef _AttrKind kind = self.attr_kinds[i]
        if kind == _ATTR_BOOL:
            attr.type = XRT_ATTR_INT
            attr.i = 1 if value else 0
        elif kind == _ATTR_INT:
            attr.type = XRT_ATTR_INT
            attr.i = _int_attr(self.op_name, self.attr_strs[i], value)
        elif kind == _ATTR_SCALE:
            attr.type = XRT_ATTR_FLOAT
            attr.f = _scale_attr(self.op_name, value)
        else:
            attr.type = XRT_ATTR_FLOAT
            attr.f = _float_attr(self.op_name, self.attr_strs[i], value)
        return 0

    def __repr__(self):
        return f"ExchangeOp({self.op.decode()!r})"


cdef object _exchange_out(const DLPackExchangeAPI* api, xrt_tensor_t** outs, size_t i,
                          size_t count):
    """outs[i] as the producer's tensor; on failure outs[i:] are released."""
    cdef DLManagedTensorVersioned* managed = NULL
    cdef void* raw = NULL
    cdef xrt_status_t status = xrt_tensor_to_dlpack(outs[i], &managed)
    xrt_tensor_release(outs[i])  # the managed tensor holds its own reference
    if status != XRT_OK:
        _release_outs(outs, i + 1, count)
        check(status)
    rc = api.managed_tensor_to_py_object_no_sync(managed, &raw)
    if rc != 0:
        _release_outs(outs, i + 1, count)
        _producer_check(rc, "importing an output")  # the producer owns the managed tensor
    result = <object>raw
    Py_DECREF(result)  # <object> took a reference of its own
    return result


cdef void _release_outs(xrt_tensor_t** outs, size_t first, size_t count) noexcept:
    cdef size_t i
    for i in range(first, count):
        xrt_tensor_release(outs[i])
        outs[i] = NULL
