/* A plugin built against plugin ABI 1.1, with its tables frozen as that
 * release laid them out: the plugin table ends at `sessions`, the session
 * table at `collect_spans`. It runs "models" that double a float32 vector,
 * so the host must read every field such a plugin has (details and
 * collect_spans included) and none it lacks. */
#include <stdlib.h>
#include <string.h>

#include "xpuruntime/xpuruntime_plugin.h"

#if defined(__GNUC__)
#define EXPORT __attribute__((visibility("default")))
#else
#define EXPORT
#endif

typedef struct {
  size_t struct_size;
  xrt_status_t (*create)(const char* path, const void* data, size_t size,
                         xrt_device_kind_t device_kind, int32_t device_index,
                         const xrt_option_t* options, size_t num_options,
                         xrt_plugin_session_t** out, char* error, size_t error_capacity);
  void (*destroy)(xrt_plugin_session_t* session);
  size_t (*input_count)(const xrt_plugin_session_t* session);
  size_t (*output_count)(const xrt_plugin_session_t* session);
  xrt_status_t (*input_info)(const xrt_plugin_session_t* session, size_t index,
                             xrt_value_info_t* info);
  xrt_status_t (*output_info)(const xrt_plugin_session_t* session, size_t index,
                              xrt_value_info_t* info);
  xrt_status_t (*run)(xrt_plugin_session_t* session, const xrt_kernel_tensor_t* inputs,
                      size_t num_inputs, const size_t* output_indices, size_t num_outputs,
                      const xrt_session_outputs_t* outputs, char* error, size_t error_capacity);
  const char* (*details)(void);
  void (*collect_spans)(xrt_plugin_session_t* session, const xrt_span_sink_t* sink);
} session_api_1_1;

typedef struct {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* name;
  const char* version;
  const xrt_kernel_def_t* kernels;
  size_t num_kernels;
  const session_api_1_1* sessions;
} plugin_api_1_1;

struct xrt_plugin_session {
  int unused;
};

static const int64_t kDynamic[1] = {-1};
static const char* const kDimNames[1] = {"n"};

static xrt_status_t create(const char* path, const void* data, size_t size,
                           xrt_device_kind_t device_kind, int32_t device_index,
                           const xrt_option_t* options, size_t num_options,
                           xrt_plugin_session_t** out, char* error, size_t error_capacity) {
  (void)path, (void)data, (void)size, (void)device_index, (void)options;
  if (device_kind != XRT_DEVICE_CPU || num_options) {
    strncpy(error, "abi11: cpu only, no options", error_capacity - 1);
    return XRT_ERROR_UNSUPPORTED;
  }
  *out = calloc(1, sizeof(xrt_plugin_session_t));
  return *out ? XRT_OK : XRT_ERROR_OUT_OF_MEMORY;
}

static void destroy(xrt_plugin_session_t* session) { free(session); }

static size_t one(const xrt_plugin_session_t* session) {
  (void)session;
  return 1;
}

static xrt_status_t describe(xrt_value_info_t* info, const char* name) {
  info->name = name;
  info->dtype = XRT_FLOAT32;
  info->ndim = 1;
  info->shape = kDynamic;
  info->dim_names = kDimNames;
  return XRT_OK;
}

static xrt_status_t input_info(const xrt_plugin_session_t* session, size_t index,
                               xrt_value_info_t* info) {
  (void)session, (void)index;
  return describe(info, "x");
}

static xrt_status_t output_info(const xrt_plugin_session_t* session, size_t index,
                                xrt_value_info_t* info) {
  (void)session, (void)index;
  return describe(info, "y");
}

static xrt_status_t run(xrt_plugin_session_t* session, const xrt_kernel_tensor_t* inputs,
                        size_t num_inputs, const size_t* output_indices, size_t num_outputs,
                        const xrt_session_outputs_t* outputs, char* error,
                        size_t error_capacity) {
  (void)session, (void)num_inputs, (void)output_indices, (void)error, (void)error_capacity;
  if (num_outputs == 0) return XRT_OK;
  float* y = NULL;
  xrt_status_t status =
      outputs->alloc_output(outputs->context, 0, XRT_FLOAT32, 1, inputs[0].shape, (void**)&y);
  if (status != XRT_OK) return status;
  const float* x = inputs[0].data;
  for (int64_t i = 0; i < inputs[0].shape[0]; ++i) y[i] = 2.0f * x[i];
  return XRT_OK;
}

static const char* details(void) { return "abi 1.1 details"; }

static void collect_spans(xrt_plugin_session_t* session, const xrt_span_sink_t* sink) {
  (void)session;
  sink->record(sink->context, "abi11.node", "backend", 0, 1000, NULL, NULL, 0);
}

static const session_api_1_1 kSessions = {
    sizeof(session_api_1_1), create, destroy, one, one, input_info, output_info, run, details,
    collect_spans,
};

static const plugin_api_1_1 kApi = {
    sizeof(plugin_api_1_1), 1, 1, "abi11", "1.1.0", NULL, 0, &kSessions,
};

EXPORT const xrt_plugin_api_t* xrt_plugin_get_api(uint32_t host_abi_major) {
  return host_abi_major == 1 ? (const xrt_plugin_api_t*)&kApi : NULL;
}
