"""Exceptions raised by xpuruntime.

Each C status code has one class. Every class derives from :class:`Error`
(a RuntimeError) and, where one fits, from the matching built-in exception,
so ``except ValueError`` keeps working for code that does not know xpuruntime.
"""


class Error(RuntimeError):
    """Base class of every error the runtime reports."""

    status = "XRT_ERROR"


class InvalidArgument(Error, ValueError):
    status = "XRT_ERROR_INVALID_ARGUMENT"


class OutOfMemory(Error, MemoryError):
    status = "XRT_ERROR_OUT_OF_MEMORY"


class NotFound(Error, LookupError):
    status = "XRT_ERROR_NOT_FOUND"


class Unsupported(Error, NotImplementedError):
    status = "XRT_ERROR_UNSUPPORTED"


class BackendError(Error):
    status = "XRT_ERROR_BACKEND"


class FileError(Error, OSError):
    status = "XRT_ERROR_IO"


class InternalError(Error):
    status = "XRT_ERROR_INTERNAL"


__all__ = [
    "Error",
    "InvalidArgument",
    "OutOfMemory",
    "NotFound",
    "Unsupported",
    "BackendError",
    "FileError",
    "InternalError",
]
