# Model sessions: InferenceSession, with ONNX Runtime's Python surface.
#
# Option values become the C API's key/value strings; the backend validates
# them (an unknown key is its InvalidArgument). run() is the hot path: input
# names are encoded once, the C arrays live on the stack for up to
# _STACK_VALUES inputs/outputs, and writable numpy arrays are wrapped without
# building a Tensor object.

cdef enum:
    _STACK_VALUES = 16

# onnxruntime.GraphOptimizationLevel, by name (without importing onnxruntime).
cdef dict _OPT_LEVELS = {
    "ORT_DISABLE_ALL": 0,
    "ORT_ENABLE_BASIC": 1,
    "ORT_ENABLE_EXTENDED": 2,
    "ORT_ENABLE_LAYOUT": 3,
    "ORT_ENABLE_ALL": 99,
}


cdef class NodeArg:
    """A model input or output: ``name``, ``shape`` (ints for fixed
    dimensions, the symbolic name or None for dynamic ones) and ``type``
    (ONNX Runtime's string, e.g. ``"tensor(float)"``)."""

    cdef readonly str name
    cdef readonly list shape
    cdef readonly str type
    cdef readonly object dtype
    cdef xrt_value_kind_t _kind

    def __repr__(self):
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"


cdef NodeArg _node_arg(xrt_value_info_t* info):
    cdef NodeArg arg = NodeArg.__new__(NodeArg)
    arg.name = _text(info.name)
    shape = []
    for i in range(info.ndim):
        if info.shape[i] >= 0:
            shape.append(info.shape[i])
        elif info.dim_names != NULL and info.dim_names[i] != NULL and info.dim_names[i][0] != 0:
            shape.append(_text(info.dim_names[i]))
        else:
            shape.append(None)
    arg.shape = shape
    arg.type = _text(info.type)
    arg._kind = info.kind
    arg.dtype = _dtype_of(info.dtype) if info.kind == XRT_VALUE_TENSOR else None
    return arg


cdef str _option_text(object value):
    if value is True or value is False:
        return "1" if value else "0"
    return str(value)


cdef str _opt_level_text(object level):
    if isinstance(level, str):
        name = level.rsplit(".", 1)[-1]  # "GraphOptimizationLevel.ORT_ENABLE_ALL"
        if name.upper() in _OPT_LEVELS:
            return str(_OPT_LEVELS[name.upper()])
        return level  # the backend says what it accepts
    name = getattr(level, "name", None)  # onnxruntime.GraphOptimizationLevel member
    if isinstance(name, str) and name in _OPT_LEVELS:
        return str(_OPT_LEVELS[name])
    try:
        return str(operator_index(level))
    except TypeError:
        value = getattr(level, "value", None)
        if value is not None:
            return str(operator_index(value))
        raise TypeError("graph_optimization_level must be an int, a name such as "
                        f"'ORT_ENABLE_ALL' or onnxruntime.GraphOptimizationLevel, "
                        f"not {type(level).__name__}") from None


cdef list _option_pairs(dict options):
    """(key, value) strings for the C API, ONNX Runtime's names kept."""
    pairs = []
    providers = options.pop("providers", None)
    provider_options = options.pop("provider_options", None)
    for key, value in options.items():
        if key == "graph_optimization_level":
            pairs.append((key, _opt_level_text(value)))
        elif isinstance(value, (list, tuple)):  # a key given more than once
            pairs.extend((key, _option_text(item)) for item in value)
        elif value is not None:
            pairs.append((key, _option_text(value)))
    if providers is not None:
        if isinstance(providers, str):
            providers = [providers]
        names = []
        settings = []
        for entry in providers:
            if isinstance(entry, (tuple, list)):
                if len(entry) != 2 or not isinstance(entry[0], str) or not isinstance(entry[1], dict):
                    raise TypeError("a providers entry must be a name or a (name, dict) tuple, "
                                    f"not {entry!r}")
                names.append(entry[0])
                settings.append(entry[1])
            elif isinstance(entry, str):
                names.append(entry)
                settings.append(None)
            else:
                raise TypeError(f"a providers entry must be a name or a (name, dict) tuple, not {entry!r}")
        if provider_options is not None:
            provider_options = list(provider_options)
            if len(provider_options) != len(names):
                raise InvalidArgument(f"provider_options has {len(provider_options)} entries "
                                      f"but providers has {len(names)}")
            for i, extra in enumerate(provider_options):
                if extra:
                    settings[i] = dict(settings[i] or {}, **extra)
        pairs.append(("providers", ",".join(names)))
        for name, setting in zip(names, settings):
            for key, value in (setting or {}).items():
                pairs.append((f"provider_option.{name}.{key}", _option_text(value)))
    elif provider_options is not None:
        raise InvalidArgument("provider_options needs providers")
    return pairs


cdef xrt_tensor_t* _input_handle(object value, xrt_device_t* device, bint host,
                                 object expected) except NULL:
    """A new reference to a tensor holding ``value`` (zero copy when possible).

    Python lists and scalars take the model's dtype ``expected`` (as
    onnxruntime does); arrays keep theirs and the runtime checks it.
    """
    cdef xrt_tensor_t* out = NULL
    cdef Tensor tensor
    cdef Py_buffer view
    cdef int64_t shape[XRT_MAX_DIMS]
    cdef xrt_dtype_t code
    cdef xrt_status_t status
    cdef int32_t ndim
    if host and type(value) is np.ndarray:
        code_obj = _code_of(value.dtype)
        # Fast path: writable C-contiguous arrays with a supported dtype.
        if code_obj is not None and (<object>value).flags.c_contiguous \
                and (<object>value).flags.writeable and (<object>value).ndim <= XRT_MAX_DIMS:
            code = <xrt_dtype_t><int>code_obj
            PyObject_GetBuffer(value, &view, PyBUF_ND)
            ndim = view.ndim
            for i in range(ndim):
                shape[i] = view.shape[i]
            data = view.buf
            PyBuffer_Release(&view)
            Py_INCREF(value)
            status = xrt_tensor_wrap(device, code, ndim, shape, NULL, data, _wrapped_deleter,
                                     <void*>value, &out)
            if status != XRT_OK:
                Py_XDECREF(<PyObject*>value)
                check(status)
            return out
    if isinstance(value, Tensor):
        tensor = value
    else:
        if expected is not None and isinstance(value, (list, tuple, int, float, bool)):
            value = np.asarray(value, dtype=expected)
        tensor = asarray(value)
    if not host and tensor.info.device != device:
        # Host data is copied to the session's GPU once; another GPU's
        # tensor is a mistake a silent copy would hide.
        if not tensor.device.host_memory:
            raise InvalidArgument(f"input is on {tensor.device.name}, the session runs on "
                                  f"{_device_from_handle(device).name} (move it with .to())")
        tensor = tensor.to(_device_from_handle(device))
    check(xrt_tensor_retain(tensor._live()))
    return tensor.handle


cdef bint _has_backend(str name):
    return any(b.name == name and b.available for b in backends())


cdef dict _through_ort_tensorrt(object device, dict options):
    """backend="tensorrt" without a native TensorRT plugin: ONNX Runtime's
    TensorRT provider first, its CUDA provider for what TensorRT declines."""
    if _device_from_handle(_device_handle(device))._kind != XRT_DEVICE_CUDA:
        raise InvalidArgument(f"backend 'tensorrt' runs on a CUDA device, not {device!r} "
                              "(pass device='cuda:N')")
    options = dict(options)
    options.setdefault("providers", ["TensorrtExecutionProvider", "CUDAExecutionProvider"])
    return options


cdef bint _ort_gpu_libraries_loaded = False


cdef _load_ort_gpu_libraries():
    """Loads the CUDA libraries ONNX Runtime's CUDA provider links from the
    nvidia wheels (onnxruntime-gpu's own helper), once, before the first GPU
    session; without the helper the provider searches the system paths."""
    global _ort_gpu_libraries_loaded
    if _ort_gpu_libraries_loaded:
        return
    _ort_gpu_libraries_loaded = True
    try:
        import onnxruntime
        preload = onnxruntime.preload_dlls
    except (ImportError, AttributeError):
        return
    preload()


cdef class _RunControl:
    """The C run options behind xpuruntime.onnxruntime.RunOptions: its
    terminate switch, which stops runs in progress from any thread."""

    cdef xrt_run_options_t* handle
    cdef readonly bint terminate

    def __cinit__(self):
        check(xrt_run_options_create(&self.handle))

    def __dealloc__(self):
        xrt_run_options_release(self.handle)

    def set_terminate(self, bint terminate):
        check(xrt_run_options_set_terminate(self.handle, terminate))
        self.terminate = terminate


cdef _RunControl _run_control(object run_options):
    """The checked C options of an onnxruntime RunOptions (None: none)."""
    if run_options is None:
        return None
    from .onnxruntime._options import check_run_options
    check_run_options(run_options)
    return run_options._control


cdef dict _selection_report(str text):
    """The C "selection" property: tab-separated key=value lines, the first
    for the choice, one per candidate after it."""
    numbers = {"median_us": float, "runs": int, "runs_per_s": float, "cost_ms": float}
    rows = []
    for line in text.splitlines():
        row = {}
        for field in line.split("\t"):
            key, _, value = field.partition("=")
            row[key] = numbers[key](value) if key in numbers else value
        rows.append(row)
    report = rows[0]
    report["cached"] = report.get("cached") == "1"
    report["candidates"] = rows[1:]
    return report


cdef class InferenceSession:
    """Runs an ONNX model on a backend and device of the runtime.

    ``InferenceSession(model, backend="auto", device="cpu", **options)``:
    ``model`` is a path or the model's bytes; ``backend`` a backend name
    (``xpuruntime.backends()``) or "auto": on the ``"npu:N"`` and
    ``"gpu:N"`` devices OpenVINO registers (inputs and outputs in host
    memory; ``NotFound`` where OpenVINO lacks one) OpenVINO; elsewhere it
    runs the model on every backend that can serve ``device`` and keeps the
    best by ``policy`` ("latency", the default; "throughput"; "prefer_npu";
    "first", the first that runs models, unmeasured), cached per model (see
    ``selection``).
    ``backend="tensorrt"`` without a native TensorRT plugin is ONNX
    Runtime's TensorRT provider (then its CUDA provider) on a CUDA device.
    Options use ONNX Runtime's names: ``intra_op_num_threads``,
    ``inter_op_num_threads``, ``graph_optimization_level``,
    ``enable_profiling``, ``providers``, ``provider_options``.

    The surface follows ``onnxruntime.InferenceSession``: ``get_inputs()``,
    ``get_outputs()``, ``run(output_names, input_feed)``. One session may be
    run from many threads at once.
    """

    cdef xrt_session_t* handle
    cdef readonly str backend
    cdef readonly Device device
    cdef bint _host
    cdef list _inputs
    cdef list _outputs
    cdef dict _input_index    # name -> position in _input_names
    cdef dict _output_index
    cdef list _input_names    # encoded once; the C arrays point into them
    cdef list _output_names
    cdef const char** _c_output_names
    cdef size_t _num_inputs
    cdef size_t _num_outputs
    cdef bint _initialised    # once: a run may point into the name lists
    cdef bint _values         # some input or output is not a tensor: run() takes trees
    cdef object __weakref__

    def __cinit__(self):
        self.handle = NULL
        self._c_output_names = NULL

    def __init__(self, model, backend="auto", device="cpu", **options):
        if backend == "tensorrt" and not _has_backend("tensorrt"):
            backend, options = "onnxruntime", _through_ort_tensorrt(device, options)
        cdef xrt_device_t* dev = _device_handle(device)
        cdef bytes path_bytes
        cdef const char* c_path = NULL
        cdef Py_buffer view
        cdef bint have_view = False
        cdef const void* data = NULL
        cdef size_t size = 0
        cdef bytes backend_bytes
        cdef const char* c_backend = NULL
        cdef xrt_option_t* c_options = NULL
        cdef size_t num_options
        cdef xrt_session_t* out = NULL
        cdef xrt_status_t status

        if self._initialised:
            raise InvalidArgument("InferenceSession is already initialised")
        if backend is not None and not isinstance(backend, str):
            raise TypeError(f"backend must be a str, not {type(backend).__name__}")
        if backend is not None and backend != "auto":
            backend_bytes = _c_text(backend, "backend name", lookup=True)
            c_backend = backend_bytes
        pairs = _option_pairs(dict(options))
        if _device_from_handle(dev)._kind == XRT_DEVICE_CUDA and \
                backend in (None, "auto", "onnxruntime"):
            _load_ort_gpu_libraries()
        encoded = [(_c_text(k, "option name"), _c_text(v, f"option {k}")) for k, v in pairs]
        if isinstance(model, (str, os.PathLike)):
            path_bytes = _c_path(model, "model path")
            c_path = path_bytes
        elif PyObject_CheckBuffer(model):
            PyObject_GetBuffer(model, &view, 0)  # PyBUF_SIMPLE: contiguous bytes
            have_view = True
            data = view.buf
            size = view.len
        else:
            raise TypeError(f"model must be a path or bytes, not {type(model).__name__}")
        num_options = len(encoded)
        try:
            c_options = <xrt_option_t*>malloc(max(num_options, 1) * sizeof(xrt_option_t))
            if c_options == NULL:
                raise MemoryError()
            for i, (k, v) in enumerate(encoded):
                c_options[i].key = <bytes>k
                c_options[i].value = <bytes>v
            with nogil:
                status = xrt_session_create(c_path, data, size, c_backend, dev, c_options,
                                            num_options, &out)
            check(status)
        finally:
            free(c_options)
            if have_view:
                PyBuffer_Release(&view)
        self.handle = out
        self._initialised = True
        self._describe()

    cdef int _describe(self) except -1:
        cdef const char* name = NULL
        cdef xrt_device_t* dev = NULL
        cdef size_t count = 0
        cdef xrt_value_info_t info
        check(xrt_session_backend(self.handle, &name))
        self.backend = _text(name)
        check(xrt_session_device(self.handle, &dev))
        self.device = _device_from_handle(dev)
        self._host = self.device.host_memory
        self._inputs = []
        check(xrt_session_input_count(self.handle, &count))
        for i in range(count):
            memset(&info, 0, sizeof(info))
            info.struct_size = sizeof(info)
            check(xrt_session_input_info(self.handle, i, &info))
            self._inputs.append(_node_arg(&info))
        self._outputs = []
        check(xrt_session_output_count(self.handle, &count))
        for i in range(count):
            memset(&info, 0, sizeof(info))
            info.struct_size = sizeof(info)
            check(xrt_session_output_info(self.handle, i, &info))
            self._outputs.append(_node_arg(&info))
        self._num_inputs = len(self._inputs)
        self._num_outputs = len(self._outputs)
        self._values = any((<NodeArg>arg)._kind != XRT_VALUE_TENSOR
                           for arg in self._inputs + self._outputs)
        self._input_names = [arg.name.encode() for arg in self._inputs]
        self._output_names = [arg.name.encode() for arg in self._outputs]
        self._input_index = {arg.name: i for i, arg in enumerate(self._inputs)}
        self._output_index = {arg.name: i for i, arg in enumerate(self._outputs)}
        self._c_output_names = <const char**>malloc(max(self._num_outputs, 1) * sizeof(char*))
        if self._c_output_names == NULL:
            raise MemoryError()
        for i in range(self._num_outputs):
            self._c_output_names[i] = <bytes>self._output_names[i]
        return 0

    def __dealloc__(self):
        xrt_session_release(self.handle)
        free(self._c_output_names)

    cdef inline xrt_session_t* _live(self) except NULL:
        if self.handle == NULL:
            raise InvalidArgument("session is closed")
        return self.handle

    def close(self):
        """Releases the model now; later runs raise. Repeating it does nothing."""
        cdef xrt_session_t* handle = self.handle
        self.handle = NULL
        xrt_session_release(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def __repr__(self):
        state = "" if self.handle != NULL else ", closed"
        return f"InferenceSession(backend={self.backend!r}, device={self.device.name!r}{state})"

    def get_inputs(self):
        """The model's inputs, in order (NodeArg: name, shape, type)."""
        return list(self._inputs)

    def get_outputs(self):
        """The model's outputs, in order (NodeArg: name, shape, type)."""
        return list(self._outputs)

    def get_providers(self):
        """The execution providers the backend registered for this session, in
        priority order (ONNX Runtime's names, e.g. ``["CUDAExecutionProvider",
        "CPUExecutionProvider"]``); empty for a backend without providers."""
        value = self._property("providers")
        return value.split(",") if value is not None else []

    def _property(self, str key):
        """What the session's backend reports for ``key`` (the C API's
        xrt_session_property), or None when it answers nothing."""
        cdef const char* value = NULL
        cdef bytes c_key = key.encode()
        if xrt_session_property(self._live(), c_key, &value) != XRT_OK:
            return None
        return _text(value)

    @property
    def selection(self):
        """How ``backend="auto"`` chose, else None: a dict with ``policy``,
        ``chosen``, ``cached`` (the choice came from the cache), ``cost_ms``
        (what choosing took) and ``candidates``, one dict per candidate with
        ``candidate``, ``backend`` and either ``median_us``, ``runs``,
        ``runs_per_s`` or the ``error`` that ruled it out."""
        value = self._property("selection")
        return _selection_report(value) if value is not None else None

    def end_profiling(self, path):
        """Writes the backend's per-node profile (option ``enable_profiling``)
        to ``path`` as a Chrome trace now, instead of into the
        :class:`Profiler` when the session closes; later runs are not
        profiled. Raises InvalidArgument the second time."""
        cdef bytes c_path = _c_path(path, "profile path")
        cdef const char* p = c_path
        cdef xrt_session_t* handle = self._live()
        cdef xrt_status_t status
        check(xrt_session_retain(handle))
        with nogil:
            status = xrt_session_end_profiling(handle, p)
            xrt_session_release(handle)
        check(status)

    cdef list _run(self, object output_names, object input_feed, _RunControl control):
        cdef const char* in_names_stack[_STACK_VALUES]
        cdef xrt_tensor_t* in_stack[_STACK_VALUES]
        cdef const char* out_names_stack[_STACK_VALUES]
        cdef xrt_tensor_t* out_stack[_STACK_VALUES]
        cdef const char** in_names = in_names_stack
        cdef xrt_tensor_t** inputs = in_stack
        cdef const char** out_names = NULL
        cdef xrt_tensor_t** outputs = out_stack
        cdef size_t num_inputs = 0
        cdef size_t num_outputs
        cdef size_t i
        cdef xrt_status_t status
        cdef object keep = None  # encoded names the caller made up
        cdef list result
        cdef xrt_tensor_t* out
        cdef xrt_run_options_t* run_options

        if type(input_feed) is not dict:
            if not isinstance(input_feed, collections.abc.Mapping):
                raise TypeError(f"input_feed must be a dict of name -> array, "
                                f"not {type(input_feed).__name__}")
        # One snapshot of the feed: a mapping whose items() and len() disagree
        # cannot make the arrays below overflow.
        feed = list(input_feed.items())
        n_feed = len(feed)
        if output_names is None:
            num_outputs = self._num_outputs
            out_names = self._c_output_names
        else:
            if isinstance(output_names, str):
                raise TypeError("output_names must be a list of names or None")
            output_names = list(output_names)
            num_outputs = len(output_names)
        # Held for the whole call: an input's __array__ or another thread may
        # close() the session meanwhile; it is freed when this run lets go.
        cdef xrt_session_t* handle = self._live()
        check(xrt_session_retain(handle))
        if <size_t>n_feed > _STACK_VALUES:
            in_names = <const char**>malloc(n_feed * sizeof(char*))
            inputs = <xrt_tensor_t**>malloc(n_feed * sizeof(xrt_tensor_t*))
        if num_outputs > _STACK_VALUES:
            outputs = <xrt_tensor_t**>malloc(num_outputs * sizeof(xrt_tensor_t*))
            if out_names == NULL:
                out_names = <const char**>malloc(num_outputs * sizeof(char*))
        elif out_names == NULL:
            out_names = out_names_stack
        if outputs != NULL:
            for i in range(num_outputs):
                outputs[i] = NULL
        try:
            if in_names == NULL or inputs == NULL or outputs == NULL or out_names == NULL:
                raise MemoryError()
            if output_names is not None:
                for i in range(num_outputs):
                    name = output_names[i]
                    index = self._output_index.get(name)
                    if index is not None:
                        out_names[i] = <bytes>self._output_names[<Py_ssize_t>index]
                    else:
                        if not isinstance(name, str):
                            raise TypeError(f"output names must be str, not {type(name).__name__}")
                        if keep is None:
                            keep = []
                        encoded = _c_text(name, "output name", lookup=True)
                        keep.append(encoded)
                        out_names[i] = <bytes>encoded
            for name, value in feed:
                index = self._input_index.get(name)
                if index is not None:
                    in_names[num_inputs] = <bytes>self._input_names[<Py_ssize_t>index]
                    expected = (<NodeArg>self._inputs[<Py_ssize_t>index]).dtype
                else:
                    expected = None
                    if not isinstance(name, str):
                        raise TypeError(f"input names must be str, not {type(name).__name__}")
                    if keep is None:
                        keep = []
                    encoded = _c_text(name, "input name", lookup=True)
                    keep.append(encoded)
                    in_names[num_inputs] = <bytes>encoded
                if index is not None and \
                        (<NodeArg>self._inputs[<Py_ssize_t>index])._kind != XRT_VALUE_TENSOR:
                    inputs[num_inputs] = NULL  # the runtime refuses it, naming its type
                else:
                    inputs[num_inputs] = _input_handle(value, self.device.handle, self._host,
                                                       expected)
                num_inputs += 1
            run_options = control.handle if control is not None else NULL
            with nogil:
                status = xrt_session_run_with_options(
                    handle, run_options, in_names, <const xrt_tensor_t* const*>inputs,
                    num_inputs, out_names, num_outputs, outputs)
            check(status)
            result = [None] * num_outputs
            for i in range(num_outputs):
                out = outputs[i]
                outputs[i] = NULL
                result[i] = _tensor_from_handle(out)
            return result
        finally:
            xrt_session_release(handle)
            for i in range(num_inputs):
                xrt_tensor_release(inputs[i])
            if outputs != NULL:
                for i in range(num_outputs):  # those not handed to a Tensor
                    xrt_tensor_release(outputs[i])
            if in_names != in_names_stack:
                free(in_names)
            if inputs != in_stack:
                free(inputs)
            if outputs != out_stack:
                free(outputs)
            if out_names != out_names_stack and out_names != self._c_output_names:
                free(out_names)

    cdef list _run_values(self, object output_names, object input_feed, _RunControl control):
        """run() for models with values other than tensors: onnxruntime's
        Python forms in and out, through xrt_session_run_values."""
        cdef _ValueTrees trees = _ValueTrees()
        cdef xrt_status_t status
        cdef size_t i
        cdef xrt_run_options_t* run_options
        if not isinstance(input_feed, collections.abc.Mapping):
            raise TypeError(f"input_feed must be a dict of name -> value, "
                            f"not {type(input_feed).__name__}")
        feed = list(input_feed.items())
        if output_names is None:
            output_names = [arg.name for arg in self._outputs]
        elif isinstance(output_names, str):
            raise TypeError("output_names must be a list of names or None")
        output_names = list(output_names)
        cdef size_t num_inputs = len(feed)
        cdef size_t num_outputs = len(output_names)
        cdef const char** in_names = <const char**>trees.alloc(num_inputs, sizeof(char*))
        cdef const xrt_value_t** inputs = <const xrt_value_t**>trees.alloc(
            num_inputs, sizeof(xrt_value_t*))
        cdef const char** out_names = <const char**>trees.alloc(num_outputs, sizeof(char*))
        cdef xrt_value_t** outputs = <xrt_value_t**>trees.alloc(num_outputs,
                                                                sizeof(xrt_value_t*))
        for i in range(num_outputs):
            name = output_names[i]
            if not isinstance(name, str):
                raise TypeError(f"output names must be str, not {type(name).__name__}")
            out_names[i] = trees.keep_bytes(_c_text(name, "output name", lookup=True))
        cdef xrt_session_t* handle = self._live()
        check(xrt_session_retain(handle))
        try:
            for i in range(num_inputs):
                name, value = feed[i]
                if not isinstance(name, str):
                    raise TypeError(f"input names must be str, not {type(name).__name__}")
                in_names[i] = trees.keep_bytes(_c_text(name, "input name", lookup=True))
                index = self._input_index.get(name)
                where = f"input '{name}'"
                if index is not None:
                    inputs[i] = trees.value(value, (<NodeArg>self._inputs[index]).type,
                                            self.device.handle, self._host, where)
                else:  # the runtime names it unknown
                    inputs[i] = trees.tensor(value, None, self.device.handle, self._host,
                                             where, "a tensor")
            run_options = control.handle if control is not None else NULL
            with nogil:
                status = xrt_session_run_values(handle, run_options, in_names, inputs,
                                                num_inputs, out_names, num_outputs, outputs)
            check(status)
            return [_value_to_python(outputs[i]) for i in range(num_outputs)]
        finally:
            xrt_session_release(handle)
            for i in range(num_outputs):
                xrt_value_release(outputs[i])

    def run(self, output_names, input_feed, run_options=None):
        """Runs the model; returns the outputs asked for (None: all) as numpy arrays.

        ``input_feed`` maps input names to numpy arrays, Tensors or anything
        :func:`asarray` takes (host arrays are used without copying).
        ``run_options`` is an ``xpuruntime.onnxruntime.RunOptions``: its
        ``terminate`` stops the run, also from another thread. Models with
        values other than tensors take and give them as onnxruntime does:
        string tensors as str/object arrays, sequences as lists, maps as
        dicts, optionals as None or the value.
        """
        if self._values:
            return self._run_values(output_names, input_feed, _run_control(run_options))
        outputs = self._run(output_names, input_feed, _run_control(run_options))
        for i in range(len(outputs)):
            outputs[i] = (<Tensor>outputs[i]).numpy()
        return outputs

    def run_tensors(self, output_names, input_feed, run_options=None):
        """Like :meth:`run`, but returns Tensors left on the session's device.

        On a GPU, inputs already there (xrt Tensors, or torch/CuPy tensors
        through DLPack) are bound without a copy; host inputs are copied to
        the session's GPU once, and a tensor on another GPU raises
        InvalidArgument. The run is queued on the device's default stream,
        in order with the ops there, and returns without waiting for it.
        Tensors only: an input or output of another type raises Unsupported
        naming it and its type.
        """
        return self._run(output_names, input_feed, _run_control(run_options))
