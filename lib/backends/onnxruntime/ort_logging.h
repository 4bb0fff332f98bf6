// ONNX Runtime's log output: one severity knob, each warning once, colour
// only on a terminal.
#pragma once

#include "ort_abi.h"

namespace xrt::ort {

// The severity sessions log at unless their log_severity_level option says
// otherwise: XPURUNTIME_LOG_SEVERITY (0 verbose, 1 info, 2 warning, 3 error,
// 4 fatal, or those names) when set, else warning.
int default_log_severity();

// The environment's logger: writes "onnxruntime [W] message" to stderr,
// coloured only when stderr is a terminal; a message already written at
// warning or above is not written again.
void write_log(void* param, int severity, const char* category, const char* log_id,
               const char* code_location, const char* message);

}  // namespace xrt::ort
