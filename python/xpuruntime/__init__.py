"""xpuruntime: one runtime for tensors, kernels and models on CPUs and GPUs.

    import xpuruntime as xrt
    x = xrt.asarray(numpy_array)          # zero copy
    y = xrt.ops.gelu(xrt.ops.matmul(x, x))
    y.numpy()
"""

from . import _discovery

# The CPU matmul and the plugins dlopen the library an environment variable
# names; point them at the pip wheels' copies (explicit settings win).
_discovery.point_plugin_at("XRT_OPENBLAS_LIB", "scipy_openblas32", "lib/libscipy_openblas.so")
_discovery.point_plugin_at("XRT_ONNXRUNTIME_LIB", "onnxruntime", "capi/libonnxruntime.so.1*")
_discovery.point_plugin_at("XRT_OPENVINO_LIB", "openvino", "libs/libopenvino_c.so*")
_discovery.point_plugin_at("XRT_CUBLASLT_LIB", "nvidia", "cu13/lib/libcublasLt.so.13*")

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
    api_version,
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
from ._paths import get_cmake_dir, get_include, get_lib_dir, get_pkgconfig_dir
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
    "api_version",
    "asarray",
    "backends",
    "devices",
    "empty",
    "empty_cache",
    "synchronize",
    "from_dlpack",
    "get_cmake_dir",
    "get_include",
    "get_lib_dir",
    "get_pkgconfig_dir",
    "memory_stats",
    "ops",
    "reset_peak_memory_stats",
    "zeros",
]
