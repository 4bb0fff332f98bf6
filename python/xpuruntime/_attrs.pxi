# Op attributes from Python values, one rule for every caller (the ops of
# _ops.pxi, ExchangeOp, and torch's DLPack path through _attribute_value):
# an integer is what has __index__, so a float is refused rather than
# truncated; a number is what has __float__ or __index__; a flag is any
# value, by its truth. A bad value is an InvalidArgument (as ops.run's),
# naming the op, the attribute and the value.

from cpython.number cimport PyNumber_Index
from libc.stdint cimport INT32_MIN, INT64_MAX, INT64_MIN


cdef int64_t _int_attr(str op, str name, object value, int64_t low=INT64_MIN,
                       int64_t high=INT64_MAX) except? -1:
    try:
        index = PyNumber_Index(value)
    except TypeError:
        raise InvalidArgument(f"{op}: {name} must be an integer, got {value!r}") from None
    if not low <= index <= high:
        raise InvalidArgument(f"{op}: {name} {value!r} is out of range")
    return index


cdef double _float_attr(str op, str name, object value) except? -1.0:
    try:
        return value
    except TypeError:
        raise InvalidArgument(f"{op}: {name} must be a number, got {value!r}") from None


cdef double _scale_attr(str op, object value) except? -1.0:
    """An attention scale: a finite number > 0, or None for the op's default
    (0 in C)."""
    if value is None:
        return 0.0
    cdef double scale
    try:
        scale = value
    except TypeError:
        raise InvalidArgument(
            f"{op}: scale must be a number > 0 or None, got {value!r}") from None
    if not 0.0 < scale < INFINITY:
        raise InvalidArgument(f"{op}: scale must be > 0 and finite, got {value!r}")
    return scale


def _attribute_value(str op, str name, str kind, value):
    """value as an attribute of kind "int", "bool", "float" or "scale"
    takes it (an int or a float), by the rules above."""
    if kind == "int":
        return _int_attr(op, name, value)
    if kind == "bool":
        return 1 if value else 0
    if kind == "float":
        return _float_attr(op, name, value)
    if kind == "scale":
        return _scale_attr(op, value)
    raise InvalidArgument(f"{op}: attribute {name!r} kind must be one of int, bool, float, "
                          f"scale, got {kind!r}")
