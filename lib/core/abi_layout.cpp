// The public structs and plugin tables as this release freezes them (API 1.0,
// plugin ABI 1.6), on LP64 targets: fields are only ever appended, so a
// reorder, a removal or a changed type fails the build here. Struct sizes
// are not frozen: appending a field is how a minor version grows a struct.
#include <cstddef>
#include <cstdint>

#include "xpuruntime/xpuruntime_plugin.h"

#if UINTPTR_MAX == UINT64_MAX

static_assert(offsetof(xrt_device_info_t, struct_size) == 0);
static_assert(offsetof(xrt_device_info_t, kind) == 8);
static_assert(offsetof(xrt_device_info_t, index) == 12);
static_assert(offsetof(xrt_device_info_t, name) == 16);
static_assert(offsetof(xrt_device_info_t, description) == 24);
static_assert(offsetof(xrt_device_info_t, total_memory) == 32);
static_assert(offsetof(xrt_device_info_t, compute_units) == 40);
static_assert(offsetof(xrt_device_info_t, compute_capability) == 44);
static_assert(offsetof(xrt_device_info_t, kind_name) == 48);
static_assert(offsetof(xrt_device_info_t, host_memory) == 56);

static_assert(offsetof(xrt_memory_stats_t, struct_size) == 0);
static_assert(offsetof(xrt_memory_stats_t, allocated_bytes) == 8);
static_assert(offsetof(xrt_memory_stats_t, reserved_bytes) == 16);
static_assert(offsetof(xrt_memory_stats_t, peak_allocated_bytes) == 24);
static_assert(offsetof(xrt_memory_stats_t, peak_reserved_bytes) == 32);
static_assert(offsetof(xrt_memory_stats_t, num_allocs) == 40);
static_assert(offsetof(xrt_memory_stats_t, num_frees) == 48);
static_assert(offsetof(xrt_memory_stats_t, num_cache_hits) == 56);
static_assert(offsetof(xrt_memory_stats_t, num_device_allocs) == 64);

static_assert(offsetof(xrt_tensor_info_t, struct_size) == 0);
static_assert(offsetof(xrt_tensor_info_t, dtype) == 8);
static_assert(offsetof(xrt_tensor_info_t, ndim) == 12);
static_assert(offsetof(xrt_tensor_info_t, shape) == 16);
static_assert(offsetof(xrt_tensor_info_t, strides) == 24);
static_assert(offsetof(xrt_tensor_info_t, data) == 32);
static_assert(offsetof(xrt_tensor_info_t, device) == 40);
static_assert(offsetof(xrt_tensor_info_t, numel) == 48);
static_assert(offsetof(xrt_tensor_info_t, nbytes) == 56);
static_assert(offsetof(xrt_tensor_info_t, contiguous) == 64);
static_assert(offsetof(xrt_tensor_info_t, read_only) == 68);

static_assert(offsetof(xrt_attr_t, name) == 0);
static_assert(offsetof(xrt_attr_t, type) == 8);
static_assert(offsetof(xrt_attr_t, i) == 16);
static_assert(offsetof(xrt_attr_t, f) == 24);

static_assert(offsetof(xrt_option_t, key) == 0);
static_assert(offsetof(xrt_option_t, value) == 8);

static_assert(offsetof(xrt_value_info_t, struct_size) == 0);
static_assert(offsetof(xrt_value_info_t, name) == 8);
static_assert(offsetof(xrt_value_info_t, dtype) == 16);
static_assert(offsetof(xrt_value_info_t, ndim) == 20);
static_assert(offsetof(xrt_value_info_t, shape) == 24);
static_assert(offsetof(xrt_value_info_t, dim_names) == 32);
static_assert(offsetof(xrt_value_info_t, kind) == 40);
static_assert(offsetof(xrt_value_info_t, type) == 48);

static_assert(offsetof(xrt_backend_info_t, struct_size) == 0);
static_assert(offsetof(xrt_backend_info_t, name) == 8);
static_assert(offsetof(xrt_backend_info_t, version) == 16);
static_assert(offsetof(xrt_backend_info_t, path) == 24);
static_assert(offsetof(xrt_backend_info_t, reason) == 32);
static_assert(offsetof(xrt_backend_info_t, available) == 40);
static_assert(offsetof(xrt_backend_info_t, builtin) == 44);
static_assert(offsetof(xrt_backend_info_t, runs_models) == 48);
static_assert(offsetof(xrt_backend_info_t, details) == 56);

static_assert(offsetof(xrt_kernel_tensor_t, data) == 0);
static_assert(offsetof(xrt_kernel_tensor_t, dtype) == 8);
static_assert(offsetof(xrt_kernel_tensor_t, ndim) == 12);
static_assert(offsetof(xrt_kernel_tensor_t, shape) == 16);
static_assert(offsetof(xrt_kernel_tensor_t, strides) == 24);
static_assert(offsetof(xrt_kernel_tensor_t, device_kind) == 32);
static_assert(offsetof(xrt_kernel_tensor_t, device_index) == 36);

static_assert(offsetof(xrt_kernel_context_t, struct_size) == 0);
static_assert(offsetof(xrt_kernel_context_t, op) == 8);
static_assert(offsetof(xrt_kernel_context_t, inputs) == 16);
static_assert(offsetof(xrt_kernel_context_t, num_inputs) == 24);
static_assert(offsetof(xrt_kernel_context_t, outputs) == 32);
static_assert(offsetof(xrt_kernel_context_t, num_outputs) == 40);
static_assert(offsetof(xrt_kernel_context_t, attrs) == 48);
static_assert(offsetof(xrt_kernel_context_t, num_attrs) == 56);
static_assert(offsetof(xrt_kernel_context_t, stream) == 64);
static_assert(offsetof(xrt_kernel_context_t, error) == 72);
static_assert(offsetof(xrt_kernel_context_t, error_capacity) == 80);

static_assert(offsetof(xrt_kernel_def_t, struct_size) == 0);
static_assert(offsetof(xrt_kernel_def_t, op) == 8);
static_assert(offsetof(xrt_kernel_def_t, name) == 16);
static_assert(offsetof(xrt_kernel_def_t, device_kind) == 24);
static_assert(offsetof(xrt_kernel_def_t, dtype_mask) == 28);
static_assert(offsetof(xrt_kernel_def_t, priority) == 32);
static_assert(offsetof(xrt_kernel_def_t, supports) == 40);
static_assert(offsetof(xrt_kernel_def_t, run) == 48);
static_assert(offsetof(xrt_kernel_def_t, flags) == 56);
static_assert(offsetof(xrt_kernel_def_t, kind_name) == 64);

static_assert(offsetof(xrt_session_outputs_t, struct_size) == 0);
static_assert(offsetof(xrt_session_outputs_t, context) == 8);
static_assert(offsetof(xrt_session_outputs_t, alloc_output) == 16);
static_assert(offsetof(xrt_session_outputs_t, adopt_output) == 24);
static_assert(offsetof(xrt_session_outputs_t, put_value) == 32);
static_assert(offsetof(xrt_session_outputs_t, given_output) == 40);

static_assert(offsetof(xrt_span_sink_t, struct_size) == 0);
static_assert(offsetof(xrt_span_sink_t, context) == 8);
static_assert(offsetof(xrt_span_sink_t, record) == 16);

static_assert(offsetof(xrt_session_api_t, struct_size) == 0);
static_assert(offsetof(xrt_session_api_t, create) == 8);
static_assert(offsetof(xrt_session_api_t, destroy) == 16);
static_assert(offsetof(xrt_session_api_t, input_count) == 24);
static_assert(offsetof(xrt_session_api_t, output_count) == 32);
static_assert(offsetof(xrt_session_api_t, input_info) == 40);
static_assert(offsetof(xrt_session_api_t, output_info) == 48);
static_assert(offsetof(xrt_session_api_t, run) == 56);
static_assert(offsetof(xrt_session_api_t, details) == 64);
static_assert(offsetof(xrt_session_api_t, collect_spans) == 72);
static_assert(offsetof(xrt_session_api_t, property) == 80);
static_assert(offsetof(xrt_session_api_t, create_on) == 88);
static_assert(offsetof(xrt_session_api_t, run_stoppable) == 96);
static_assert(offsetof(xrt_session_api_t, run_values) == 104);

static_assert(offsetof(xrt_plugin_value_t, struct_size) == 0);
static_assert(offsetof(xrt_plugin_value_t, kind) == 8);
static_assert(offsetof(xrt_plugin_value_t, tensor) == 16);
static_assert(offsetof(xrt_plugin_value_t, strings) == 56);
static_assert(offsetof(xrt_plugin_value_t, lengths) == 64);
static_assert(offsetof(xrt_plugin_value_t, items) == 72);
static_assert(offsetof(xrt_plugin_value_t, num_items) == 80);

static_assert(offsetof(xrt_value_t, struct_size) == 0);
static_assert(offsetof(xrt_value_t, kind) == 8);
static_assert(offsetof(xrt_value_t, tensor) == 16);
static_assert(offsetof(xrt_value_t, ndim) == 24);
static_assert(offsetof(xrt_value_t, shape) == 32);
static_assert(offsetof(xrt_value_t, strings) == 40);
static_assert(offsetof(xrt_value_t, lengths) == 48);
static_assert(offsetof(xrt_value_t, items) == 56);
static_assert(offsetof(xrt_value_t, num_items) == 64);

static_assert(offsetof(xrt_run_stop_t, struct_size) == 0);
static_assert(offsetof(xrt_run_stop_t, context) == 8);
static_assert(offsetof(xrt_run_stop_t, watch) == 16);
static_assert(offsetof(xrt_run_stop_t, unwatch) == 24);

static_assert(offsetof(xrt_plugin_device_props_t, struct_size) == 0);
static_assert(offsetof(xrt_plugin_device_props_t, name) == 8);
static_assert(offsetof(xrt_plugin_device_props_t, total_memory) == 264);
static_assert(offsetof(xrt_plugin_device_props_t, compute_units) == 272);
static_assert(offsetof(xrt_plugin_device_props_t, compute_capability) == 276);

static_assert(offsetof(xrt_device_api_t, struct_size) == 0);
static_assert(offsetof(xrt_device_api_t, kind) == 8);
static_assert(offsetof(xrt_device_api_t, last_error) == 16);
static_assert(offsetof(xrt_device_api_t, unavailable_reason) == 24);
static_assert(offsetof(xrt_device_api_t, device_count) == 32);
static_assert(offsetof(xrt_device_api_t, device_props) == 40);
static_assert(offsetof(xrt_device_api_t, alloc) == 48);
static_assert(offsetof(xrt_device_api_t, free) == 56);
static_assert(offsetof(xrt_device_api_t, memory_stats) == 64);
static_assert(offsetof(xrt_device_api_t, empty_cache) == 72);
static_assert(offsetof(xrt_device_api_t, reset_peak) == 80);
static_assert(offsetof(xrt_device_api_t, stream_create) == 88);
static_assert(offsetof(xrt_device_api_t, stream_destroy) == 96);
static_assert(offsetof(xrt_device_api_t, stream_synchronize) == 104);
static_assert(offsetof(xrt_device_api_t, stream_wait_event) == 112);
static_assert(offsetof(xrt_device_api_t, event_create) == 120);
static_assert(offsetof(xrt_device_api_t, event_destroy) == 128);
static_assert(offsetof(xrt_device_api_t, event_record) == 136);
static_assert(offsetof(xrt_device_api_t, event_synchronize) == 144);
static_assert(offsetof(xrt_device_api_t, event_query) == 152);
static_assert(offsetof(xrt_device_api_t, event_elapsed_ms) == 160);
static_assert(offsetof(xrt_device_api_t, copy) == 168);
static_assert(offsetof(xrt_device_api_t, copy_strided) == 176);
static_assert(offsetof(xrt_device_api_t, fill_zero) == 184);
static_assert(offsetof(xrt_device_api_t, host_alloc) == 192);
static_assert(offsetof(xrt_device_api_t, host_free) == 200);
static_assert(offsetof(xrt_device_api_t, kind_name) == 208);
static_assert(offsetof(xrt_device_api_t, flags) == 216);

static_assert(offsetof(xrt_host_api_t, struct_size) == 0);
static_assert(offsetof(xrt_host_api_t, memory_alloc) == 8);
static_assert(offsetof(xrt_host_api_t, memory_free) == 16);

static_assert(offsetof(xrt_plugin_api_t, struct_size) == 0);
static_assert(offsetof(xrt_plugin_api_t, abi_major) == 8);
static_assert(offsetof(xrt_plugin_api_t, abi_minor) == 12);
static_assert(offsetof(xrt_plugin_api_t, name) == 16);
static_assert(offsetof(xrt_plugin_api_t, version) == 24);
static_assert(offsetof(xrt_plugin_api_t, kernels) == 32);
static_assert(offsetof(xrt_plugin_api_t, num_kernels) == 40);
static_assert(offsetof(xrt_plugin_api_t, sessions) == 48);
static_assert(offsetof(xrt_plugin_api_t, devices) == 56);
static_assert(offsetof(xrt_plugin_api_t, attach_host) == 64);
static_assert(offsetof(xrt_plugin_api_t, ops) == 72);
static_assert(offsetof(xrt_plugin_api_t, num_ops) == 80);
static_assert(offsetof(xrt_plugin_api_t, device_tables) == 88);
static_assert(offsetof(xrt_plugin_api_t, num_device_tables) == 96);

static_assert(offsetof(xrt_op_output_desc_t, dtype) == 0);
static_assert(offsetof(xrt_op_output_desc_t, ndim) == 4);
static_assert(offsetof(xrt_op_output_desc_t, shape) == 8);

static_assert(offsetof(xrt_op_infer_context_t, struct_size) == 0);
static_assert(offsetof(xrt_op_infer_context_t, op) == 8);
static_assert(offsetof(xrt_op_infer_context_t, inputs) == 16);
static_assert(offsetof(xrt_op_infer_context_t, num_inputs) == 24);
static_assert(offsetof(xrt_op_infer_context_t, attrs) == 32);
static_assert(offsetof(xrt_op_infer_context_t, num_attrs) == 40);
static_assert(offsetof(xrt_op_infer_context_t, outputs) == 48);
static_assert(offsetof(xrt_op_infer_context_t, num_outputs) == 56);
static_assert(offsetof(xrt_op_infer_context_t, error) == 64);
static_assert(offsetof(xrt_op_infer_context_t, error_capacity) == 72);

static_assert(offsetof(xrt_op_schema_t, struct_size) == 0);
static_assert(offsetof(xrt_op_schema_t, name) == 8);
static_assert(offsetof(xrt_op_schema_t, input_names) == 16);
static_assert(offsetof(xrt_op_schema_t, num_inputs) == 24);
static_assert(offsetof(xrt_op_schema_t, optional_inputs) == 32);
static_assert(offsetof(xrt_op_schema_t, num_outputs) == 40);
static_assert(offsetof(xrt_op_schema_t, attrs) == 48);
static_assert(offsetof(xrt_op_schema_t, num_attrs) == 56);
static_assert(offsetof(xrt_op_schema_t, infer) == 64);
#endif
