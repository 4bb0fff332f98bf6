# The one place that knows how xrt dtype codes map to numpy dtypes, to
# PEP 3118 buffer formats and to DLPack type codes. Tables are indexed by
# xrt_dtype_t.

cdef tuple _DTYPES = (
    np.dtype(np.bool_),
    np.dtype(np.uint8),
    np.dtype(np.int8),
    np.dtype(np.int16),
    np.dtype(np.int32),
    np.dtype(np.int64),
    np.dtype(np.float16),
    np.dtype(ml_dtypes.bfloat16),
    np.dtype(np.float32),
    np.dtype(np.float64),
)
cdef dict _CODES = {dt: code for code, dt in enumerate(_DTYPES)}
cdef str _SUPPORTED = ", ".join(dt.name for dt in _DTYPES)

# (DLDataTypeCode, bits); lanes are always 1.
cdef tuple _DLPACK_TYPES = (
    (kDLBool, 8),
    (kDLUInt, 8),
    (kDLInt, 8),
    (kDLInt, 16),
    (kDLInt, 32),
    (kDLInt, 64),
    (kDLFloat, 16),
    (kDLBfloat, 16),
    (kDLFloat, 32),
    (kDLFloat, 64),
)


cdef const char* _buffer_format(xrt_dtype_t code) noexcept:
    """PEP 3118 format, or NULL for bfloat16, which has none (numpy agrees)."""
    if code == XRT_BOOL:
        return "?"
    if code == XRT_UINT8:
        return "B"
    if code == XRT_INT8:
        return "b"
    if code == XRT_INT16:
        return "h"
    if code == XRT_INT32:
        return "i"
    if code == XRT_INT64:
        return "q"
    if code == XRT_FLOAT16:
        return "e"
    if code == XRT_FLOAT32:
        return "f"
    if code == XRT_FLOAT64:
        return "d"
    return NULL


cdef object _as_dtype(object spec):
    """numpy dtype for whatever np.dtype() accepts ("float32", np.int8, "bfloat16")."""
    try:
        return np.dtype(spec)
    except TypeError:
        raise InvalidArgument(f"unknown dtype {spec!r}; expected one of {_SUPPORTED}") from None


cdef xrt_dtype_t _dtype_code(object dtype) except XRT_DTYPE_COUNT:
    code = _CODES.get(dtype)
    if code is None:
        raise Unsupported(f"dtype {dtype} is not supported; expected one of {_SUPPORTED}")
    return code
