// One loaded model: its ORT session and the input/output descriptions the
// runtime reads, cached at creation.
#pragma once

#include <string>
#include <vector>

#include "ort_library.h"
#include "xpuruntime_plugin.h"

namespace xrt::ort {

using plugin::ValueInfo;

xrt_status_t session_create(const char* path, const void* data, size_t size,
                            xrt_device_kind_t device_kind, int32_t device_index,
                            const xrt_option_t* options, size_t num_options,
                            xrt_plugin_session_t** out, char* error, size_t capacity);
void session_destroy(xrt_plugin_session_t* session);
size_t session_input_count(const xrt_plugin_session_t* session);
size_t session_output_count(const xrt_plugin_session_t* session);
xrt_status_t session_input_info(const xrt_plugin_session_t* session, size_t index,
                                xrt_value_info_t* info);
xrt_status_t session_output_info(const xrt_plugin_session_t* session, size_t index,
                                 xrt_value_info_t* info);
xrt_status_t session_run(xrt_plugin_session_t* session, const xrt_kernel_tensor_t* inputs,
                         size_t num_inputs, const size_t* output_indices, size_t num_outputs,
                         const xrt_session_outputs_t* outputs, char* error, size_t capacity);

// session_run that ORT stops when `stop` says so (RunOptionsSetTerminate).
xrt_status_t session_run_stoppable(xrt_plugin_session_t* session,
                                   const xrt_kernel_tensor_t* inputs, size_t num_inputs,
                                   const size_t* output_indices, size_t num_outputs,
                                   const xrt_session_outputs_t* outputs,
                                   const xrt_run_stop_t* stop, char* error, size_t capacity);

// Runs values of every kind through ORT's Run (ORT allocates the outputs,
// in host memory); stoppable like session_run_stoppable when `stop` is set.
xrt_status_t session_run_values(xrt_plugin_session_t* session,
                                const xrt_plugin_value_t* const* inputs, size_t num_inputs,
                                const size_t* output_indices, size_t num_outputs,
                                const xrt_session_outputs_t* outputs, const xrt_run_stop_t* stop,
                                char* error, size_t capacity);

// "providers": the execution providers registered, in priority order.
const char* session_property(const xrt_plugin_session_t* session, const char* key);

// Ends ORT's profiling of the session and forwards its spans to the sink.
void session_collect_spans(xrt_plugin_session_t* session, const xrt_span_sink_t* sink);

}  // namespace xrt::ort
