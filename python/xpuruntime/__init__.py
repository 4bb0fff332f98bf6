"""xpuruntime: one runtime for tensors, kernels and models on CPUs and GPUs.

    import xpuruntime as xrt
    x = xrt.asarray(numpy_array)          # zero copy
    y = xrt.ops.gelu(xrt.ops.matmul(x, x))
    y.numpy()
"""

import os as _os


def _point_plugin_at(env_var, package, pattern):
    """Points a plugin at a library shipped in a pip wheel.

    Plugins dlopen ``$env_var`` when set. The library is found as ``pattern``
    under the package's folders without importing the package (so any
    install layout works, editable ones included, and the package's import
    cost is not paid here).
    """
    if _os.environ.get(env_var):
        return
    try:
        import glob
        import importlib.util

        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return
        for folder in spec.submodule_search_locations:
            candidates = sorted(glob.glob(_os.path.join(folder, pattern)))
            # A fully versioned file (libonnxruntime.so.1.22.0) is the real one.
            candidates.sort(key=lambda path: (_os.path.islink(path), -len(path)))
            if candidates:
                _os.environ[env_var] = _os.path.abspath(candidates[0])
                return
    except (ImportError, ValueError, OSError):  # a broken install must not break ours
        pass


_point_plugin_at("XRT_ONNXRUNTIME_LIB", "onnxruntime", "capi/libonnxruntime.so.1*")
_point_plugin_at("XRT_OPENVINO_LIB", "openvino", "libs/libopenvino_c.so*")
_point_plugin_at("XRT_CUBLASLT_LIB", "nvidia", "cu13/lib/libcublasLt.so.13*")

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
    synchronize,
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
    "synchronize",
    "from_dlpack",
    "get_include",
    "get_lib_dir",
    "get_pkgconfig_dir",
    "memory_stats",
    "ops",
    "reset_peak_memory_stats",
    "zeros",
]
