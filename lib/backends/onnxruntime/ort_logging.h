// ONNX Runtime's log output: one severity knob, each warning once, colour
// only on a terminal.
#pragma once

#include "log_severity.h"
#include "ort_abi.h"

namespace xrt::ort {

using plugin::default_log_severity;

// The environment's logger: writes "onnxruntime [W] message" to stderr,
// coloured only when stderr is a terminal; a message already written at
// warning or above is not written again.
void write_log(void* param, int severity, const char* category, const char* log_id,
               const char* code_location, const char* message);

}  // namespace xrt::ort
