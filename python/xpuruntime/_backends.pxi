# Backends: the built-in CPU backend and every plugin the loader found.

BackendInfo = collections.namedtuple(
    "BackendInfo", ["name", "available", "version", "reason", "path", "builtin",
                    "runs_models", "details"])
BackendInfo.__doc__ = ("A backend as the runtime lists it; ``reason`` says why an unavailable "
                       "one could not be loaded; ``runs_models`` says whether it can run "
                       "InferenceSession; ``details`` is extra text such as ORT's execution "
                       "providers.")


def backends():
    """Every backend, including plugins that failed to load (with the reason)."""
    cdef int32_t count = 0
    cdef xrt_backend_info_t info
    with nogil:
        check(xrt_backend_count(&count))
    result = []
    for i in range(count):
        memset(&info, 0, sizeof(info))
        info.struct_size = sizeof(info)
        check(xrt_backend_info(i, &info))
        result.append(BackendInfo(
            name=_text(info.name),
            available=bool(info.available),
            version=_text(info.version),
            reason=_text(info.reason),
            path=_text(info.path),
            builtin=bool(info.builtin),
            runs_models=bool(info.runs_models),
            details=_text(info.details),
        ))
    return result
