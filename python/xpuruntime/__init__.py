"""xpuruntime: one runtime for tensors, kernels and models on CPUs and GPUs.

    import xpuruntime as xrt
    x = xrt.asarray(numpy_array)          # zero copy
    y = xrt.ops.gelu(xrt.ops.matmul(x, x))
    y.numpy()
"""

from . import _blas  # noqa: F401  (before _core: loads the BLAS the library links)
from . import ops
from ._core import (
    BackendInfo,
    Device,
    Event,
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
    "InternalError",
    "InvalidArgument",
    "NotFound",
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
