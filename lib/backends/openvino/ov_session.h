// One compiled model: its input/output descriptions, cached at creation, and
// a pool of infer requests so runs on many threads do not serialise.
#pragma once

#include "ov_library.h"
#include "xpuruntime_plugin.h"

namespace xrt::ov {

// On "cpu" (OpenVINO's device from the option openvino_device, CPU by
// default), or on an "npu" or "gpu" device the plugin registered.
xrt_status_t session_create_on(const char* path, const void* data, size_t size,
                               const char* kind_name, int32_t device_index,
                               const xrt_option_t* options, size_t num_options,
                               xrt_plugin_session_t** out, char* error, size_t capacity);
// The same for hosts before plugin ABI 1.6, which name the kind by code.
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
// Hands over the per-node spans of the runs made with enable_profiling=1.
void session_collect_spans(xrt_plugin_session_t* session, const xrt_span_sink_t* sink);
// "log_level": OpenVINO's LOG_LEVEL the model was compiled with (the
// runtime's one log severity knob, mapped); NULL for other keys.
const char* session_property(const xrt_plugin_session_t* session, const char* key);

}  // namespace xrt::ov
