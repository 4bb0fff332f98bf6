"""SessionOptions and RunOptions with onnxruntime's attribute names.

Each attribute either reaches the backend as a session option or, set to
anything but onnxruntime's default, raises Unsupported when the session is
made or run: nothing is accepted and ignored. Unknown attributes raise
AttributeError, as onnxruntime's do.
"""

import enum
import os

from .. import _core
from ..errors import Unsupported


class GraphOptimizationLevel(enum.IntEnum):
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_LAYOUT = 3
    ORT_ENABLE_ALL = 99


class ExecutionMode(enum.IntEnum):
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


class ExecutionOrder(enum.IntEnum):
    DEFAULT = 0
    PRIORITY_BASED = 1
    MEMORY_EFFICIENT = 2


# attribute -> (onnxruntime's default, the backend option it becomes (None
# where no backend takes it, "" where this layer uses it itself), the type
# an assignment must have: int, bool, str, "path" (str or os.PathLike) or
# an enum class, whose members or their int values are taken).
_SESSION_FIELDS = {
    "intra_op_num_threads": (0, "intra_op_num_threads", int),
    "inter_op_num_threads": (0, "inter_op_num_threads", int),
    "graph_optimization_level": (GraphOptimizationLevel.ORT_ENABLE_ALL, "graph_optimization_level",
                                 GraphOptimizationLevel),
    "enable_profiling": (False, "enable_profiling", bool),
    "profile_file_prefix": ("onnxruntime_profile_", "", "path"),  # names end_profiling's file
    "log_severity_level": (-1, "log_severity_level", int),
    "log_verbosity_level": (0, "log_verbosity_level", int),
    "logid": ("", "logid", str),
    "execution_mode": (ExecutionMode.ORT_SEQUENTIAL, "execution_mode", ExecutionMode),
    "execution_order": (ExecutionOrder.DEFAULT, None, ExecutionOrder),
    "enable_mem_pattern": (True, "enable_mem_pattern", bool),
    "enable_cpu_mem_arena": (True, "enable_cpu_mem_arena", bool),
    "enable_mem_reuse": (True, None, bool),
    "optimized_model_filepath": ("", "optimized_model_filepath", "path"),
    "use_deterministic_compute": (False, None, bool),
}


def _assigned(name, value, kind):
    """value as the field keeps it, or TypeError naming the field, the value
    and the type it takes (onnxruntime's attributes refuse other types at
    assignment too)."""
    if isinstance(kind, type) and issubclass(kind, enum.IntEnum):
        if isinstance(value, kind):
            return value
        if type(value) is int and value in kind._value2member_map_:
            return kind(value)
        expected = f"one of {kind.__name__}'s members ({', '.join(kind.__members__)})"
    elif kind is bool:
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return bool(value)
        expected = "a bool"
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        expected = "an int"
    elif kind == "path":
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
        expected = "a str or os.PathLike"
    else:
        if isinstance(value, str):
            return value
        expected = "a str"
    raise TypeError(f"SessionOptions.{name} must be {expected}, got {value!r}")


class SessionOptions:
    """onnxruntime.SessionOptions: the settings of an InferenceSession."""

    __slots__ = tuple(_SESSION_FIELDS) + ("_config", "_custom_op_libraries")

    def __init__(self):
        for name, (default, _, _) in _SESSION_FIELDS.items():
            object.__setattr__(self, name, default)
        self._config = {}
        self._custom_op_libraries = []

    def __setattr__(self, name, value):
        field = _SESSION_FIELDS.get(name)
        if field is not None:
            value = _assigned(name, value, field[2])
        object.__setattr__(self, name, value)

    def add_session_config_entry(self, key, value):
        """A session configuration entry (onnxruntime's "session.*" keys)."""
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("add_session_config_entry takes two str, not "
                            f"{type(key).__name__} and {type(value).__name__}")
        self._config[key] = value

    def get_session_config_entry(self, key):
        try:
            return self._config[key]
        except KeyError:
            raise RuntimeError(f"SessionOptions has no config entry {key!r}") from None

    def register_custom_ops_library(self, library_path):
        """Custom operators from a shared library (ONNX Runtime backend only)."""
        self._custom_op_libraries.append(str(library_path))

    def _unsupported(self, name):
        raise Unsupported(f"SessionOptions.{name} is not supported by xpuruntime; "
                          f"leave it at onnxruntime's default")

    def add_initializer(self, name, value):
        self._unsupported("add_initializer")

    def add_external_initializers(self, names, values):
        self._unsupported("add_external_initializers")

    def add_free_dimension_override_by_name(self, name, value):
        self._unsupported("add_free_dimension_override_by_name")

    def add_free_dimension_override_by_denotation(self, denotation, value):
        self._unsupported("add_free_dimension_override_by_denotation")

    def backend_options(self, log_defaults):
        """The xrt session options these settings make, onnxruntime's defaults
        left out (so backends without them take the session); `log_defaults`
        fill the log options left unset."""
        options = dict(log_defaults)
        for name, (default, key, _) in _SESSION_FIELDS.items():
            value = getattr(self, name)
            if value == default:
                continue
            if key == "":
                continue
            if key is None:
                raise Unsupported(f"SessionOptions.{name}={value!r} is not supported by "
                                  f"xpuruntime (onnxruntime's default is {default!r})")
            options[key] = int(value) if isinstance(value, enum.IntEnum) else value
        for key, value in self._config.items():
            options[f"session_config.{key}"] = value
        if self._custom_op_libraries:
            options["custom_ops_library"] = list(self._custom_op_libraries)
        return options


_RUN_FIELDS = {
    "log_severity_level": -1,
    "log_verbosity_level": 0,
    "logid": "",
    "only_execute_path_to_fetches": False,
    "synchronize_execution_providers": True,
}


class RunOptions:
    """onnxruntime.RunOptions. ``terminate = True``, also from another
    thread, stops the runs using these options with BackendError (and later
    ones at once, until it is set back to False); every other field must
    keep onnxruntime's default."""

    __slots__ = tuple(_RUN_FIELDS) + ("_control",)

    def __init__(self):
        for name, default in _RUN_FIELDS.items():
            object.__setattr__(self, name, default)
        self._control = _core._RunControl()

    @property
    def terminate(self):
        return self._control.terminate

    @terminate.setter
    def terminate(self, value):
        self._control.set_terminate(bool(value))

    def add_run_config_entry(self, key, value):
        raise Unsupported(f"RunOptions.add_run_config_entry({key!r}) is not supported by "
                          "xpuruntime")

    def get_run_config_entry(self, key):
        raise RuntimeError(f"RunOptions has no config entry {key!r}")


def check_run_options(run_options):
    """Raises for run options a run cannot honour."""
    if not isinstance(run_options, RunOptions):
        raise TypeError(f"run_options must be an onnxruntime RunOptions "
                        f"(xpuruntime.onnxruntime.RunOptions), not {type(run_options).__name__}")
    for name, default in _RUN_FIELDS.items():
        if getattr(run_options, name) != default:
            raise Unsupported(f"RunOptions.{name}={getattr(run_options, name)!r} is not "
                              f"supported by xpuruntime (onnxruntime's default is {default!r})")
