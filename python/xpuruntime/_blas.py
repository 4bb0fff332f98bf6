"""Loads the scipy-openblas32 library before the runtime library needs it.

libxpuruntime.so finds it through its rpath when installed from a wheel; an
editable install runs the library from the build folder, where that relative
rpath points nowhere. Loading it here by full path satisfies the dependency
in both cases (the dynamic loader reuses an already-loaded library of the same
name).
"""

import ctypes
import os

try:
    import scipy_openblas32
except ImportError:  # built against a system BLAS, or without one
    pass
else:
    _path = os.path.join(scipy_openblas32.get_lib_dir(), "libscipy_openblas.so")
    if os.path.exists(_path):
        ctypes.CDLL(_path, mode=ctypes.RTLD_GLOBAL)
