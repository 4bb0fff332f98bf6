// The one severity knob for the runtimes' own logs (ONNX Runtime, OpenVINO):
// ONNX Runtime's scale, 0 verbose, 1 info, 2 warning, 3 error, 4 fatal.
#pragma once

namespace xrt::plugin {

constexpr int kLogVerbose = 0;
constexpr int kLogWarning = 2;
constexpr int kLogFatal = 4;

// "0".."4" or "verbose", "info", "warning", "error", "fatal"; -1 otherwise.
int parse_log_severity(const char* text);

// The severity sessions log at unless their log_severity_level option says
// otherwise: XPURUNTIME_LOG_SEVERITY when set, else warning.
int default_log_severity();

}  // namespace xrt::plugin
