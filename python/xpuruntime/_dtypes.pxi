# The one place that knows how xrt dtype codes map to numpy dtypes, to
# PEP 3118 buffer formats, to DLPack type codes and to ONNX Runtime's type
# strings (sizes and names live in the C library's table).

# One row per xrt_dtype_t, in code order: numpy dtype (for bfloat16 and
# float8, the name of the ml_dtypes type), buffer format (None where numpy
# has none), DLPack (type code, bits) with lanes 1, ONNX Runtime's type
# string.
cdef tuple _DTYPE_ROWS = (
    (np.dtype(np.bool_), b"?", (kDLBool, 8), "tensor(bool)"),
    (np.dtype(np.uint8), b"B", (kDLUInt, 8), "tensor(uint8)"),
    (np.dtype(np.int8), b"b", (kDLInt, 8), "tensor(int8)"),
    (np.dtype(np.int16), b"h", (kDLInt, 16), "tensor(int16)"),
    (np.dtype(np.int32), b"i", (kDLInt, 32), "tensor(int32)"),
    (np.dtype(np.int64), b"q", (kDLInt, 64), "tensor(int64)"),
    (np.dtype(np.float16), b"e", (kDLFloat, 16), "tensor(float16)"),
    ("bfloat16", None, (kDLBfloat, 16), "tensor(bfloat16)"),
    (np.dtype(np.float32), b"f", (kDLFloat, 32), "tensor(float)"),
    (np.dtype(np.float64), b"d", (kDLFloat, 64), "tensor(double)"),
    (np.dtype(np.uint16), b"H", (kDLUInt, 16), "tensor(uint16)"),
    (np.dtype(np.uint32), b"I", (kDLUInt, 32), "tensor(uint32)"),
    (np.dtype(np.uint64), b"Q", (kDLUInt, 64), "tensor(uint64)"),
    ("float8_e4m3fn", None, (kDLFloat8_e4m3fn, 8), "tensor(float8e4m3fn)"),
    ("float8_e5m2", None, (kDLFloat8_e5m2, 8), "tensor(float8e5m2)"),
    ("float8_e4m3fnuz", None, (kDLFloat8_e4m3fnuz, 8), "tensor(float8e4m3fnuz)"),
    ("float8_e5m2fnuz", None, (kDLFloat8_e5m2fnuz, 8), "tensor(float8e5m2fnuz)"),
)
assert len(_DTYPE_ROWS) == XRT_DTYPE_COUNT, "a dtype code has no row in _DTYPE_ROWS"

# ml_dtypes takes most of a second to import, so it is imported the first
# time one of its types is needed; until then its rows hold the type's name.
cdef list _DTYPES = [row[0] for row in _DTYPE_ROWS]
cdef bint _ml_dtypes_loaded = False
cdef tuple _BUFFER_FORMATS = tuple([row[1] for row in _DTYPE_ROWS])
cdef tuple _DLPACK_TYPES = tuple([row[2] for row in _DTYPE_ROWS])
cdef tuple _ORT_TYPES = tuple([row[3] for row in _DTYPE_ROWS])
# What numpy's array interface carries each dtype as: dtypes without a
# standard type string (ml_dtypes') travel as unsigned ints of their size
# and are viewed back.
cdef tuple _CARRIERS = tuple([dt if fmt is not None else np.dtype(f"u{bits // 8}")
                              for dt, fmt, (_, bits), _ in _DTYPE_ROWS])
cdef dict _CODES = {dt: code for code, dt in enumerate(_DTYPES) if isinstance(dt, np.dtype)}
cdef str _SUPPORTED = ", ".join(dt if isinstance(dt, str) else dt.name for dt in _DTYPES)


cdef _load_ml_dtypes():
    """Puts ml_dtypes' numpy dtypes into their rows (and registers their names with numpy)."""
    global _ml_dtypes_loaded
    import ml_dtypes
    for code, dt in enumerate(_DTYPES):
        if isinstance(dt, str):
            dt = np.dtype(getattr(ml_dtypes, dt))
            _DTYPES[code] = dt
            _CODES[dt] = code
    _ml_dtypes_loaded = True


cdef inline object _dtype_of(int code):
    """numpy dtype of an xrt dtype code."""
    dt = _DTYPES[code]
    if type(dt) is str:
        _load_ml_dtypes()
        dt = _DTYPES[code]
    return dt


cdef object _code_of(object dtype):
    """xrt dtype code of a numpy dtype, or None. A bfloat16 or float8 dtype can
    exist only once ml_dtypes is imported, so only then is it loaded here."""
    code = _CODES.get(dtype)
    if code is None and not _ml_dtypes_loaded and "ml_dtypes" in sys.modules:
        _load_ml_dtypes()
        code = _CODES.get(dtype)
    return code


cdef const char* _buffer_format(xrt_dtype_t code) noexcept:
    """PEP 3118 format, or NULL where numpy has none (bfloat16, float8)."""
    fmt = _BUFFER_FORMATS[code]
    return NULL if fmt is None else <const char*>fmt


cdef object _as_dtype(object spec):
    """numpy dtype for whatever np.dtype() accepts ("float32", np.int8, "bfloat16")."""
    try:
        return np.dtype(spec)
    except TypeError:
        pass
    if not _ml_dtypes_loaded:  # "bfloat16", "float8_e4m3fn": names ml_dtypes registers
        _load_ml_dtypes()
    try:
        return np.dtype(spec)
    except TypeError:
        raise InvalidArgument(f"unknown dtype {spec!r}; expected one of {_SUPPORTED}") from None


cdef xrt_dtype_t _dtype_code(object dtype) except XRT_DTYPE_COUNT:
    code = _code_of(dtype)
    if code is None:
        raise Unsupported(f"dtype {dtype} is not supported; expected one of {_SUPPORTED}")
    return code


def _ort_type_name(dtype):
    """ONNX Runtime's type string for a numpy dtype ("tensor(float)")."""
    return _ORT_TYPES[_dtype_code(_as_dtype(dtype))]
