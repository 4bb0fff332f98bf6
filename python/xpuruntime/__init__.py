"""xpuruntime: one runtime for tensors, kernels and models on CPUs and GPUs.

    import xpuruntime as xrt
    x = xrt.asarray(numpy_array)          # zero copy
    y = xrt.ops.gelu(xrt.ops.matmul(x, x))
    y.numpy()
"""

import os as _os


def _find_onnxruntime():
    """Points the ONNX Runtime plugin at the installed onnxruntime wheel.

    The plugin dlopens ``$XRT_ONNXRUNTIME_LIB`` when set. The wheel's library
    lives in ``onnxruntime/capi/``; its folder is found without importing the
    package (so any install layout works, editable ones included, and
    onnxruntime's import cost is not paid here).
    """
    if _os.environ.get("XRT_ONNXRUNTIME_LIB"):
        return
    try:
        import glob
        import importlib.util

        spec = importlib.util.find_spec("onnxruntime")
        if spec is None or not spec.submodule_search_locations:
            return
        for folder in spec.submodule_search_locations:
            candidates = sorted(glob.glob(_os.path.join(folder, "capi", "libonnxruntime.so.1*")))
            # The fully versioned file (libonnxruntime.so.1.22.0) is the real one.
            candidates.sort(key=lambda path: (_os.path.islink(path), -len(path)))
            if candidates:
                _os.environ["XRT_ONNXRUNTIME_LIB"] = _os.path.abspath(candidates[0])
                return
    except (ImportError, ValueError, OSError):  # a broken install must not break ours
        pass


_find_onnxruntime()

from . import _blas  # noqa: F401,E402  (before _core: loads the BLAS the library links)
from . import ops  # noqa: E402
from ._core import (
    BackendInfo,
    Device,
    Event,
    InferenceSession,
    NodeArg,
    Profiler,
    Stream,
    Tensor,
    asarray,
    backends,
    devices,
    empty,
    empty_cache,
    from_dlpack,
    memory_stats,
    reset_peak_memory_stats,
    version as _version,
    zeros,
)
from ._paths import get_include, get_lib_dir, get_pkgconfig_dir
from .errors import (
    BackendError,
    Error,
    FileError,
    InternalError,
    InvalidArgument,
    NotFound,
    OutOfMemory,
    Unsupported,
)

__version__ = _version()

__all__ = [
    "BackendError",
    "BackendInfo",
    "Device",
    "Error",
    "Event",
    "FileError",
    "InferenceSession",
    "InternalError",
    "InvalidArgument",
    "NotFound",
    "NodeArg",
    "OutOfMemory",
    "Profiler",
    "Stream",
    "Tensor",
    "Unsupported",
    "__version__",
    "asarray",
    "backends",
    "devices",
    "empty",
    "empty_cache",
    "from_dlpack",
    "get_include",
    "get_lib_dir",
    "get_pkgconfig_dir",
    "memory_stats",
    "ops",
    "reset_peak_memory_stats",
    "zeros",
]
