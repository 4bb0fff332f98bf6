# Model values other than tensors (string tensors, sequences, maps,
# optionals) between Python and xrt_value_t trees, as onnxruntime's run()
# takes and gives them: str/object arrays, lists, dicts and None. The
# model's type string (NodeArg.type) says how each input is read; the
# runtime checks the tree against it.

cdef dict _NUMPY_OF_ORT = {name: dt for name, dt in zip(_ORT_TYPES, _DTYPES)}


cdef tuple _split_type(str type_name):
    """'map(int64,tensor(float))' -> ('map', ['int64', 'tensor(float)'])."""
    open_at = type_name.find("(")
    if open_at < 0 or not type_name.endswith(")"):
        return type_name, []
    head = type_name[:open_at]
    body = type_name[open_at + 1:-1]
    args = []
    depth = 0
    start = 0
    for i, c in enumerate(body):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            args.append(body[start:i])
            start = i + 1
    args.append(body[start:])
    return head, args


cdef str _type_of(object value):
    return type(value).__name__


cdef class _ValueTrees:
    """The xrt_value_t trees of one run's inputs: every node, array and
    tensor reference they point at, freed together when this is dropped."""

    cdef list _blocks    # calloc'd memory, as addresses
    cdef list _tensors   # xrt_tensor_t references, as addresses
    cdef list _keep      # Python objects the trees point into

    def __cinit__(self):
        self._blocks = []
        self._tensors = []
        self._keep = []

    def __dealloc__(self):
        for address in self._tensors:
            xrt_tensor_release(<xrt_tensor_t*><uintptr_t>address)
        for address in self._blocks:
            free(<void*><uintptr_t>address)

    cdef void* alloc(self, size_t count, size_t size) except NULL:
        cdef void* p = calloc(max(count, 1), size)
        if p == NULL:
            raise MemoryError()
        self._blocks.append(<uintptr_t>p)
        return p

    cdef const char* keep_bytes(self, bytes data):
        self._keep.append(data)
        return data

    cdef xrt_value_t* node(self, xrt_value_kind_t kind) except NULL:
        cdef xrt_value_t* v = <xrt_value_t*>self.alloc(1, sizeof(xrt_value_t))
        v.struct_size = sizeof(xrt_value_t)
        v.kind = kind
        return v

    cdef xrt_value_t* strings(self, object value, str where) except NULL:
        array = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=object)
        if array.dtype.kind not in "OUS":
            raise InvalidArgument(f"{where} expects tensor(string), got an array of "
                                  f"{array.dtype}")
        if array.ndim > XRT_MAX_DIMS:
            raise InvalidArgument(f"{where} has {array.ndim} dimensions; at most "
                                  f"{XRT_MAX_DIMS} are supported")
        cdef xrt_value_t* v = self.node(XRT_VALUE_STRINGS)
        cdef Py_ssize_t n = array.size
        cdef int64_t* shape = <int64_t*>self.alloc(array.ndim, sizeof(int64_t))
        cdef const char** texts = <const char**>self.alloc(n, sizeof(char*))
        cdef size_t* lengths = <size_t*>self.alloc(n, sizeof(size_t))
        for d in range(array.ndim):
            shape[d] = array.shape[d]
        for i, item in enumerate(array.flat):
            if isinstance(item, str):
                # surrogateescape: the bytes a run returned (decoded the same way) go back as
                # they came.
                try:
                    encoded = (<str>item).encode("utf-8", "surrogateescape")
                except UnicodeEncodeError as e:
                    raise InvalidArgument(f"{where}: element {i} ({item!r}) cannot be encoded "
                                          f"as UTF-8 ({e.reason})") from None
            elif isinstance(item, bytes):
                encoded = item
            else:
                raise InvalidArgument(f"{where} expects tensor(string); element {i} is "
                                      f"{_type_of(item)}")
            texts[i] = self.keep_bytes(encoded)
            lengths[i] = len(encoded)
        v.ndim = array.ndim
        v.shape = shape
        v.strings = texts
        v.lengths = lengths
        return v

    cdef xrt_value_t* tensor(self, object value, object dtype, xrt_device_t* device, bint host,
                             str where, str type_name) except NULL:
        if value is None or isinstance(value, (dict, str, bytes)) or \
                (isinstance(value, (list, tuple)) and dtype is None):
            raise InvalidArgument(f"{where} expects {type_name}, got {_type_of(value)}")
        if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
            raise InvalidArgument(f"{where} expects {type_name}, got an array of "
                                  f"{value.dtype}")
        cdef xrt_value_t* v = self.node(XRT_VALUE_TENSOR)
        v.tensor = _input_handle(value, device, host, dtype)
        self._tensors.append(<uintptr_t>v.tensor)
        return v

    cdef xrt_value_t* value(self, object value, str type_name, xrt_device_t* device, bint host,
                            str where) except NULL:
        """The tree of `value` read as the model's type `type_name`."""
        cdef xrt_value_t* v
        cdef const xrt_value_t** items
        head, args = _split_type(type_name)
        if type_name == "tensor(string)":
            return self.strings(value, where)
        if head == "tensor":
            return self.tensor(value, _NUMPY_OF_ORT.get(type_name), device, host, where,
                               type_name)
        if head == "optional":
            v = self.node(XRT_VALUE_OPTIONAL)
            if value is not None:
                items = <const xrt_value_t**>self.alloc(1, sizeof(xrt_value_t*))
                items[0] = self.value(value, args[0], device, host, where)
                v.items = items
                v.num_items = 1
            return v
        if head == "seq":
            if not isinstance(value, (list, tuple)):
                raise InvalidArgument(f"{where} expects {type_name} (a list), got "
                                      f"{_type_of(value)}")
            v = self.node(XRT_VALUE_SEQUENCE)
            items = <const xrt_value_t**>self.alloc(len(value), sizeof(xrt_value_t*))
            for i, item in enumerate(value):
                items[i] = self.value(item, args[0], device, host, f"{where} item {i}")
            v.items = items
            v.num_items = len(value)
            return v
        if head == "map":
            return self.map(value, type_name, args, device, host, where)
        raise Unsupported(f"{where} has type {type_name}, which xpuruntime cannot carry")

    cdef xrt_value_t* map(self, object value, str type_name, list args, xrt_device_t* device,
                          bint host, str where) except NULL:
        if not isinstance(value, dict):
            raise InvalidArgument(f"{where} expects {type_name} (a dict), got "
                                  f"{_type_of(value)}")
        key_type = args[0]
        keys = list(value.keys())
        for key in keys:
            ok = isinstance(key, str) if key_type == "string" else \
                (isinstance(key, (int, np.integer)) and not isinstance(key, bool))
            if not ok:
                raise InvalidArgument(f"{where} expects {type_name}: key {key!r} is "
                                      f"{_type_of(key)}, not {key_type}")
        cdef xrt_value_t* v = self.node(XRT_VALUE_MAP)
        cdef const xrt_value_t** items = <const xrt_value_t**>self.alloc(2, sizeof(xrt_value_t*))
        if key_type == "string":
            items[0] = self.strings(np.array(keys, dtype=object), where + " (keys)")
        else:
            items[0] = self.tensor(np.array(keys, dtype=np.int64), np.int64, device, host,
                                   where + " (keys)", "tensor(int64)")
        values = list(value.values())
        if args[1] == "tensor(string)":
            items[1] = self.strings(np.array(values, dtype=object), where + " (values)")
        else:
            dtype = _NUMPY_OF_ORT.get(args[1])
            try:
                array = np.array(values, dtype=dtype)
            except (TypeError, ValueError) as e:
                raise InvalidArgument(f"{where} expects {type_name}: its values are not "
                                      f"{args[1]} ({e})") from None
            items[1] = self.tensor(array, dtype, device, host, where + " (values)", args[1])
        v.items = items
        v.num_items = 2
        return v


cdef object _value_to_python(const xrt_value_t* v):
    """onnxruntime's Python form of a runtime-owned tree (copied out)."""
    if v.kind == XRT_VALUE_TENSOR:
        check(xrt_tensor_retain(v.tensor))
        return _tensor_from_handle(v.tensor).numpy()
    if v.kind == XRT_VALUE_STRINGS:
        count = 1
        for d in range(v.ndim):
            count *= v.shape[d]
        texts = np.empty(count, dtype=object)
        for i in range(count):
            texts[i] = v.strings[i][:v.lengths[i]].decode("utf-8", "surrogateescape")
        return texts.reshape([v.shape[d] for d in range(v.ndim)])
    if v.kind == XRT_VALUE_SEQUENCE:
        return [_value_to_python(v.items[i]) for i in range(v.num_items)]
    if v.kind == XRT_VALUE_OPTIONAL:
        return _value_to_python(v.items[0]) if v.num_items else None
    keys = _value_to_python(v.items[0]).tolist()
    values = _value_to_python(v.items[1]).tolist()
    return dict(zip(keys, values))
