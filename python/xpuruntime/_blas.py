"""Loads the scipy-openblas32 library before the runtime library needs it.

libxpuruntime.so finds it through its rpath when installed from a wheel; an
editable install runs the library from the build folder, where that relative
rpath points nowhere. Loading it here by full path satisfies the dependency
in both cases (the dynamic loader reuses an already-loaded library of the same
name). Without the wheel (a system BLAS, or none) there is nothing to load.
"""

import ctypes

from ._discovery import find_library

_path = find_library("scipy_openblas32", "lib/libscipy_openblas.so")
if _path is not None:
    ctypes.CDLL(_path, mode=ctypes.RTLD_GLOBAL)
