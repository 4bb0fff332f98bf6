# The one way a C status becomes a Python exception.

cdef dict _ERROR_CLASSES = {
    XRT_ERROR_INVALID_ARGUMENT: InvalidArgument,
    XRT_ERROR_OUT_OF_MEMORY: OutOfMemory,
    XRT_ERROR_NOT_FOUND: NotFound,
    XRT_ERROR_UNSUPPORTED: Unsupported,
    XRT_ERROR_BACKEND: BackendError,
    XRT_ERROR_IO: FileError,
    XRT_ERROR_INTERNAL: InternalError,
}
# The same table for code outside this module (xpuruntime.torch's C++ kernels).
_STATUS_ERRORS = _ERROR_CLASSES


cdef int _raise_status(xrt_status_t status) except -1:
    # xrt_last_error() is per thread, so this must run on the failing thread.
    message = xrt_last_error().decode("utf-8", "replace")
    if not message:
        message = xrt_status_name(status).decode()
    raise _ERROR_CLASSES.get(status, Error)(message)


cdef inline int check(xrt_status_t status) except -1 nogil:
    """Raises the typed error for a failed C call; takes the GIL only then."""
    if status != XRT_OK:
        with gil:
            _raise_status(status)
    return 0
