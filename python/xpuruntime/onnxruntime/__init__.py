"""onnxruntime's Python API over xpuruntime's sessions.

    import xpuruntime.onnxruntime as ort
    sess = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    outputs = sess.run(None, {"x": x})

Everything onnxruntime's documented usage calls is here with the same names
and behaviour; a setting xpuruntime cannot honour raises Unsupported naming
it rather than being ignored.
"""

from .. import __version__
from .._core import NodeArg
from ._iobinding import IOBinding
from ._logging import set_default_logger_severity, set_default_logger_verbosity
from ._metadata import ModelMetadata
from ._options import (
    ExecutionMode,
    ExecutionOrder,
    GraphOptimizationLevel,
    RunOptions,
    SessionOptions,
)
from ._ortvalue import OrtValue
from ._providers import get_available_providers, get_device
from ._session import InferenceSession


def get_all_providers():
    """Every provider name xpuruntime maps to a backend."""
    return ["TensorrtExecutionProvider", "CUDAExecutionProvider", "OpenVINOExecutionProvider",
            "CPUExecutionProvider"]


def get_version_string():
    return __version__


__all__ = [
    "ExecutionMode",
    "ExecutionOrder",
    "GraphOptimizationLevel",
    "IOBinding",
    "InferenceSession",
    "ModelMetadata",
    "NodeArg",
    "OrtValue",
    "RunOptions",
    "SessionOptions",
    "__version__",
    "get_all_providers",
    "get_available_providers",
    "get_device",
    "get_version_string",
    "set_default_logger_severity",
    "set_default_logger_verbosity",
]
