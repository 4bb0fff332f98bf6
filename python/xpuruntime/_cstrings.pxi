# Text that crosses into the C API as a NUL-terminated string. A NUL inside
# would end it early on the C side, so that "gelu\0x" ran gelu and
# "model.onnx\0x" loaded model.onnx: refused here, for every caller.


cdef bytes _c_text(str text, str what, bint lookup=False):
    """text as UTF-8 for the C API, or InvalidArgument naming ``what``.
    ``lookup``: a name the runtime looks up, which encodes whatever it
    holds (backslashreplace) so that the runtime's "not found" names it."""
    cdef bytes encoded
    try:
        encoded = text.encode("utf-8", "backslashreplace" if lookup else "strict")
    except UnicodeEncodeError as e:
        raise InvalidArgument(f"{what} {text!r} cannot be encoded as UTF-8 ({e.reason})") from None
    if b"\0" in encoded:
        raise InvalidArgument(f"{what} {text!r} contains a NUL character")
    return encoded


cdef bytes _c_path(object path, str what):
    """A file path (str, bytes or os.PathLike) for the C API, as _c_text."""
    cdef bytes encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise InvalidArgument(f"{what} {path!r} contains a NUL character")
    return encoded
