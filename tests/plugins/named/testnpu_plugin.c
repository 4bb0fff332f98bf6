/* A plugin that brings device kinds by name, as the OpenVINO plugin does
 * for the NPUs and Intel GPUs it finds: "npu" (npu:0) and "gpu" (gpu:0,
 * gpu:1), both on host memory (XRT_DEVICE_HOST_MEMORY), so the runtime
 * serves their memory, streams and copies. It registers an "add" kernel
 * for kind "npu" by name, and runs "models" that double a float32 vector
 * on any of its devices, answering the session property "device" with the
 * device create_on was given.
 *
 * Built once as it should be, and once per way a plugin can get its device
 * tables wrong (TESTNPU_FAULT), each of which must leave the plugin listed
 * unavailable with the reason:
 *   1 two tables bring "npu"          2 a malformed kind name
 *   3 a table without device_props    4 a kernel for a malformed kind
 *   5 a NULL entry in device_tables   6 the "npu" kind again, as backend
 *                                       "testnpu_again" (load it after)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpuruntime/xpuruntime_plugin.h"

#ifndef TESTNPU_FAULT
#define TESTNPU_FAULT 0
#endif

#if defined(__GNUC__)
#define EXPORT __attribute__((visibility("default")))
#define MAYBE_UNUSED __attribute__((unused)) /* by some fault builds */
#else
#define EXPORT
#define MAYBE_UNUSED
#endif

static const char* last_error(void) { return "testnpu: no such device"; }

static int32_t npu_count(void) { return 1; }
static int32_t gpu_count(void) { return 2; }

MAYBE_UNUSED static xrt_status_t npu_props(int32_t device, xrt_plugin_device_props_t* props) {
  if (device != 0) return XRT_ERROR_INVALID_ARGUMENT;
  snprintf(props->name, sizeof props->name, "test NPU");
  props->total_memory = 1u << 20;
  props->compute_units = 1;
  return XRT_OK;
}

static xrt_status_t gpu_props(int32_t device, xrt_plugin_device_props_t* props) {
  if (device < 0 || device > 1) return XRT_ERROR_INVALID_ARGUMENT;
  snprintf(props->name, sizeof props->name, "test GPU %d", (int)device);
  props->total_memory = 1u << 20;
  props->compute_units = 2;
  return XRT_OK;
}

#if TESTNPU_FAULT == 2
#define NPU_KIND "NPU!"
#else
#define NPU_KIND "npu"
#endif

static const xrt_device_api_t kNpu = {
    .struct_size = sizeof(xrt_device_api_t),
    .last_error = last_error,
    .device_count = npu_count,
#if TESTNPU_FAULT != 3
    .device_props = npu_props,
#endif
    .kind_name = NPU_KIND,
    .flags = XRT_DEVICE_HOST_MEMORY,
};

MAYBE_UNUSED static const xrt_device_api_t kGpu = {
    .struct_size = sizeof(xrt_device_api_t),
    .last_error = last_error,
    .device_count = gpu_count,
    .device_props = gpu_props,
#if TESTNPU_FAULT == 1
    .kind_name = "npu",
#else
    .kind_name = "gpu",
#endif
    .flags = XRT_DEVICE_HOST_MEMORY,
};

#if TESTNPU_FAULT == 5
static const xrt_device_api_t* const kTables[] = {&kNpu, NULL};
#elif TESTNPU_FAULT == 6
static const xrt_device_api_t* const kTables[] = {&kNpu};
#else
static const xrt_device_api_t* const kTables[] = {&kNpu, &kGpu};
#endif

/* The device kind code the last kernel call saw, for the test to compare
 * with the code the runtime gave "npu". */
static xrt_device_kind_t last_kernel_kind = (xrt_device_kind_t)-1;

EXPORT int32_t xrt_testnpu_last_kernel_kind(void) { return (int32_t)last_kernel_kind; }

static xrt_status_t add(const xrt_kernel_context_t* ctx) {
  const float* a = ctx->inputs[0].data;
  const float* b = ctx->inputs[1].data;
  float* out = ctx->outputs[0].data;
  int64_t n = 1;
  for (int32_t d = 0; d < ctx->outputs[0].ndim; ++d) n *= ctx->outputs[0].shape[d];
  /* Broadcast inputs arrive with stride-0 axes; the test adds equal shapes. */
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
  last_kernel_kind = ctx->inputs[0].device_kind;
  return XRT_OK;
}

static int32_t same_shape_only(const xrt_kernel_context_t* ctx) {
  return ctx->inputs[0].ndim == ctx->inputs[1].ndim && ctx->inputs[0].ndim == 1 &&
         ctx->inputs[0].shape[0] == ctx->inputs[1].shape[0];
}

static const xrt_kernel_def_t kKernels[] = {{
    .struct_size = sizeof(xrt_kernel_def_t),
    .op = "add",
    .name = "testnpu.add",
    .dtype_mask = XRT_DTYPE_BIT(XRT_FLOAT32),
    .priority = 10,
    .supports = same_shape_only,
    .run = add,
#if TESTNPU_FAULT == 4
    .kind_name = "n pu",
#else
    .kind_name = "npu",
#endif
}};

/* ---- sessions ----------------------------------------------------------- */

struct xrt_plugin_session {
  char device[64];  /* what create_on was given, "npu:0" */
};

static const int64_t kDynamic[1] = {-1};
static const char* const kDimNames[1] = {"n"};

static xrt_status_t create_on(const char* path, const void* data, size_t size,
                              const char* kind_name, int32_t device_index,
                              const xrt_option_t* options, size_t num_options,
                              xrt_plugin_session_t** out, char* error, size_t error_capacity) {
  (void)path, (void)data, (void)size, (void)options;
  if (num_options) {
    snprintf(error, error_capacity, "testnpu: takes no options");
    return XRT_ERROR_INVALID_ARGUMENT;
  }
  if (strcmp(kind_name, "npu") != 0 && strcmp(kind_name, "gpu") != 0) {
    snprintf(error, error_capacity, "testnpu: runs models on npu and gpu devices, not %s",
             kind_name);
    return XRT_ERROR_UNSUPPORTED;
  }
  xrt_plugin_session_t* session = calloc(1, sizeof *session);
  if (!session) return XRT_ERROR_OUT_OF_MEMORY;
  snprintf(session->device, sizeof session->device, "%s:%d", kind_name, (int)device_index);
  *out = session;
  return XRT_OK;
}

/* Before ABI 1.6 sessions were created by kind code; never called here. */
static xrt_status_t create(const char* path, const void* data, size_t size,
                           xrt_device_kind_t device_kind, int32_t device_index,
                           const xrt_option_t* options, size_t num_options,
                           xrt_plugin_session_t** out, char* error, size_t error_capacity) {
  (void)path, (void)data, (void)size, (void)device_kind, (void)device_index, (void)options;
  (void)num_options, (void)out;
  snprintf(error, error_capacity, "testnpu: create() called although create_on exists");
  return XRT_ERROR_INTERNAL;
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

static const char* property(const xrt_plugin_session_t* session, const char* key) {
  return strcmp(key, "device") == 0 ? session->device : NULL;
}

static const xrt_session_api_t kSessions = {
    .struct_size = sizeof(xrt_session_api_t),
    .create = create,
    .destroy = destroy,
    .input_count = one,
    .output_count = one,
    .input_info = input_info,
    .output_info = output_info,
    .run = run,
    .property = property,
    .create_on = create_on,
};

static const xrt_plugin_api_t kApi = {
    .struct_size = sizeof(xrt_plugin_api_t),
    .abi_major = XRT_PLUGIN_ABI_MAJOR,
    .abi_minor = XRT_PLUGIN_ABI_MINOR,
#if TESTNPU_FAULT == 6
    .name = "testnpu_again",
#elif TESTNPU_FAULT
    .name = "testnpu_fault",
#else
    .name = "testnpu",
#endif
    .version = "0.0.1",
    .kernels = kKernels,
    .num_kernels = 1,
    .sessions = &kSessions,
    .device_tables = kTables,
    .num_device_tables = sizeof kTables / sizeof kTables[0],
};

EXPORT const xrt_plugin_api_t* xrt_plugin_get_api(uint32_t host_abi_major) {
  return host_abi_major == XRT_PLUGIN_ABI_MAJOR ? &kApi : NULL;
}
