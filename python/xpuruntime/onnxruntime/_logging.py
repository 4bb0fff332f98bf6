"""set_default_logger_severity: the severity sessions made afterwards log at.

Unset, ONNX Runtime's backend logs at its own default: XPURUNTIME_LOG_SEVERITY
when set, else warnings (each warning once; colour only on a terminal). A
session's SessionOptions.log_severity_level overrides both.
"""

_severity = None


def set_default_logger_severity(severity):
    """0 verbose, 1 info, 2 warning, 3 error, 4 fatal."""
    global _severity
    if not isinstance(severity, int) or not 0 <= severity <= 4:
        raise ValueError(f"severity must be an int from 0 (verbose) to 4 (fatal), "
                         f"not {severity!r}")
    _severity = severity


def set_default_logger_verbosity(verbosity):
    """Verbose messages' detail; ONNX Runtime reads it only in debug builds."""
    if not isinstance(verbosity, int) or verbosity < 0:
        raise ValueError(f"verbosity must be a non-negative int, not {verbosity!r}")


def default_severity():
    return _severity
