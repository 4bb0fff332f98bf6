/* A session backend that misbehaves as its option "fault" says; the model
 * it runs is fixed: y = 2 * x, float32 of shape (2,).
 *   create       create() fails without a message
 *   null_session create() succeeds but hands back no session
 *   describe     input_info() succeeds without a name
 *   run          run() fails without a message
 *   no_output    run() succeeds without producing its output
 *   tree_*       output y is a seq(tensor(float)), and run_values hands it
 *                back malformed: tree_null_item (a NULL item), tree_bad_kind
 *                (kind 77), tree_map_count (a map of 3 items), tree_cycle
 *                (a sequence holding itself), tree_null_data (a tensor
 *                without data)
 * With no fault the session works, so a test can tell the plugin loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpuruntime/xpuruntime_plugin.h"

struct xrt_plugin_session {
  char fault[32];
};

static const int64_t kShape[1] = {2};

static xrt_plugin_session_t* live(const xrt_plugin_session_t* s) {
  if (!s) {
    fprintf(stderr, "badsession: the runtime used the NULL session create() handed back\n");
    abort();
  }
  return (xrt_plugin_session_t*)s;
}

static xrt_status_t create(const char* path, const void* data, size_t size,
                           xrt_device_kind_t kind, int32_t index, const xrt_option_t* options,
                           size_t num_options, xrt_plugin_session_t** out, char* error,
                           size_t capacity) {
  (void)path, (void)data, (void)size, (void)kind, (void)index, (void)error, (void)capacity;
  const char* fault = "";
  for (size_t i = 0; i < num_options; ++i)
    if (strcmp(options[i].key, "fault") == 0) fault = options[i].value;
  if (strcmp(fault, "create") == 0) return XRT_ERROR_BACKEND;
  if (strcmp(fault, "null_session") == 0) {
    *out = NULL;
    return XRT_OK;
  }
  xrt_plugin_session_t* s = calloc(1, sizeof *s);
  if (!s) return XRT_ERROR_OUT_OF_MEMORY;
  snprintf(s->fault, sizeof s->fault, "%s", fault);
  *out = s;
  return XRT_OK;
}

static void destroy(xrt_plugin_session_t* s) { free(s); }

static size_t one(const xrt_plugin_session_t* s) {
  live(s);
  return 1;
}

static xrt_status_t describe(const xrt_plugin_session_t* s, size_t index, xrt_value_info_t* info,
                             const char* name) {
  if (index != 0) return XRT_ERROR_INVALID_ARGUMENT;
  info->name = strcmp(live(s)->fault, "describe") == 0 ? NULL : name;
  info->dtype = XRT_FLOAT32;
  info->ndim = 1;
  info->shape = kShape;
  info->dim_names = NULL;
  if (strcmp(name, "y") == 0 && strncmp(s->fault, "tree_", 5) == 0) {
    info->kind = XRT_VALUE_SEQUENCE;
    info->type = "seq(tensor(float))";
    info->ndim = 0;
  }
  return XRT_OK;
}

static xrt_status_t input_info(const xrt_plugin_session_t* s, size_t i, xrt_value_info_t* info) {
  return describe(s, i, info, "x");
}

static xrt_status_t output_info(const xrt_plugin_session_t* s, size_t i, xrt_value_info_t* info) {
  return describe(s, i, info, "y");
}

static xrt_status_t run(xrt_plugin_session_t* s, const xrt_kernel_tensor_t* inputs,
                        size_t num_inputs, const size_t* output_indices, size_t num_outputs,
                        const xrt_session_outputs_t* outputs, char* error, size_t capacity) {
  (void)num_inputs, (void)output_indices, (void)error, (void)capacity;
  if (strcmp(live(s)->fault, "run") == 0) return XRT_ERROR_BACKEND;
  if (strcmp(s->fault, "no_output") == 0 || num_outputs == 0) return XRT_OK;
  float* y = NULL;
  xrt_status_t status = outputs->alloc_output(outputs->context, 0, XRT_FLOAT32, 1, kShape,
                                              (void**)&y);
  if (status != XRT_OK) return status;
  const float* x = inputs[0].data;
  for (int i = 0; i < 2; ++i) y[i] = 2 * x[i];
  return XRT_OK;
}

static xrt_status_t run_values(xrt_plugin_session_t* s, const xrt_plugin_value_t* const* inputs,
                               size_t num_inputs, const size_t* output_indices,
                               size_t num_outputs, const xrt_session_outputs_t* outputs,
                               const xrt_run_stop_t* stop, char* error, size_t capacity) {
  (void)inputs, (void)num_inputs, (void)output_indices, (void)stop, (void)error, (void)capacity;
  if (num_outputs == 0) return XRT_OK;
  const char* fault = live(s)->fault;
  static const float kData[2] = {1, 2};
  xrt_plugin_value_t tensor = {sizeof tensor, XRT_VALUE_TENSOR,
                               {(void*)kData, XRT_FLOAT32, 1, kShape, NULL, XRT_DEVICE_CPU, 0},
                               NULL, NULL, NULL, 0};
  if (strcmp(fault, "tree_null_data") == 0) tensor.tensor.data = NULL;
  const xrt_plugin_value_t* items[3] = {&tensor, &tensor, &tensor};
  xrt_plugin_value_t tree = {sizeof tree, XRT_VALUE_SEQUENCE, {0}, NULL, NULL, items, 1};
  if (strcmp(fault, "tree_null_item") == 0) items[0] = NULL;
  if (strcmp(fault, "tree_bad_kind") == 0) tree.kind = (xrt_value_kind_t)77;
  if (strcmp(fault, "tree_map_count") == 0) {
    tree.kind = XRT_VALUE_MAP;
    tree.num_items = 3;
  }
  if (strcmp(fault, "tree_cycle") == 0) items[0] = &tree;
  return outputs->put_value(outputs->context, 0, &tree);
}

static const xrt_session_api_t sessions = {
    sizeof(xrt_session_api_t), create, destroy, one, one, input_info, output_info, run,
    NULL, NULL, NULL, NULL, NULL, run_values,
};

static const xrt_plugin_api_t api = {
    sizeof(xrt_plugin_api_t), XRT_PLUGIN_ABI_MAJOR, XRT_PLUGIN_ABI_MINOR, "badsession", "0.0.1",
    NULL, 0, &sessions,
};

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  return host_abi_major == XRT_PLUGIN_ABI_MAJOR ? &api : NULL;
}
