# Binding of libxpuruntime's C API (include/xpuruntime/xpuruntime.h).
#
# Each class holds one C handle and drops it in __dealloc__. Every C call that
# can block, allocate or run a kernel runs without the GIL; check() takes the
# GIL back only to raise. The .pxi files below each cover one concern.

from libc.math cimport INFINITY
from libc.stdint cimport INT32_MAX, UINTPTR_MAX, int32_t, int64_t, uintptr_t
from libc.stdlib cimport calloc, malloc, free
from libc.string cimport memset
from cpython.buffer cimport (
    PyBUF_ANY_CONTIGUOUS, PyBUF_C_CONTIGUOUS, PyBUF_F_CONTIGUOUS, PyBUF_FORMAT, PyBUF_ND,
    PyBUF_STRIDES, PyBUF_WRITABLE, PyBuffer_Release, PyObject_CheckBuffer, PyObject_GetBuffer,
)
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.memoryview cimport PyMemoryView_FromObject
from cpython.pycapsule cimport (
    PyCapsule_CheckExact, PyCapsule_GetPointer, PyCapsule_IsValid, PyCapsule_New, PyCapsule_SetName,
)
from cpython.ref cimport PyObject, Py_INCREF, Py_XDECREF

from ._capi cimport *

import collections
import collections.abc
import json
import os
import sys
import tempfile
from operator import index as operator_index

import numpy as np

from .errors import (
    BackendError, Error, FileError, InternalError, InvalidArgument, NotFound, OutOfMemory,
    Unsupported,
)

include "_errors.pxi"
include "_cstrings.pxi"
include "_dtypes.pxi"
include "_device.pxi"
include "_stream.pxi"
include "_tensor.pxi"
include "_hostwrap.pxi"
include "_create.pxi"
include "_dlpack.pxi"
include "_memory.pxi"
include "_attrs.pxi"
include "_ops.pxi"
include "_exchange.pxi"
include "_profiler.pxi"
include "_backends.pxi"
include "_session_values.pxi"
include "_session.pxi"
include "_bound_run.pxi"


def version():
    """Version of the loaded C library ("MAJOR.MINOR.PATCH")."""
    return xrt_version().decode()


def api_version():
    """XRT_API_VERSION of the loaded C library (xrt_api_version())."""
    return xrt_api_version()
