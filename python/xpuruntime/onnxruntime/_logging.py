"""set_default_logger_severity: the severity sessions made afterwards log at,
on ONNX Runtime and OpenVINO alike.

Unset, the backends log at their own default: XPURUNTIME_LOG_SEVERITY when
set, else warnings (ONNX Runtime's each once, colour only on a terminal). A
session's SessionOptions.log_severity_level overrides both.
"""

_severity = None
_verbosity = None
# The session options these set.
LEVEL_OPTIONS = ("log_severity_level", "log_verbosity_level")
# The one that only ONNX Runtime takes.
VERBOSITY_OPTION = "log_verbosity_level"


def set_default_logger_severity(severity):
    """0 verbose, 1 info, 2 warning, 3 error, 4 fatal."""
    global _severity
    if not isinstance(severity, int) or not 0 <= severity <= 4:
        raise ValueError(f"severity must be an int from 0 (verbose) to 4 (fatal), "
                         f"not {severity!r}")
    _severity = severity


def set_default_logger_verbosity(verbosity):
    """The detail of verbose messages (ONNX Runtime prints them only in its
    debug builds), for sessions made afterwards."""
    global _verbosity
    if not isinstance(verbosity, int) or verbosity < 0:
        raise ValueError(f"verbosity must be a non-negative int, not {verbosity!r}")
    _verbosity = verbosity


def session_defaults():
    """The log options sessions take unless their SessionOptions set them."""
    return {key: value for key, value in zip(LEVEL_OPTIONS, (_severity, _verbosity))
            if value is not None}
