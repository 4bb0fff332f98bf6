/* Registers "add" for int32 on the CPU (the built-in backend has only
 * floating-point add), so a test can see the dispatcher use a plugin kernel. */
#include <stddef.h>

#include "xpuruntime/xpuruntime_plugin.h"

static xrt_status_t add_int32(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t* a = &ctx->inputs[0];
  const xrt_kernel_tensor_t* b = &ctx->inputs[1];
  const xrt_kernel_tensor_t* out = &ctx->outputs[0];
  int64_t numel = 1;
  for (int32_t d = 0; d < out->ndim; ++d) numel *= out->shape[d];
  int64_t index[XRT_MAX_DIMS] = {0};
  int32_t* dst = (int32_t*)out->data;
  for (int64_t n = 0; n < numel; ++n) {
    int64_t oa = 0, ob = 0;
    for (int32_t d = 0; d < out->ndim; ++d) {
      oa += index[d] * a->strides[d];
      ob += index[d] * b->strides[d];
    }
    dst[n] = ((const int32_t*)a->data)[oa] + ((const int32_t*)b->data)[ob];
    for (int32_t d = out->ndim - 1; d >= 0; --d) {
      if (++index[d] < out->shape[d]) break;
      index[d] = 0;
    }
  }
  return XRT_OK;
}

/* A kernel entry as ABI 1.0-1.3 defined it (before flags): the host must
 * step through the table by the entry size the plugin declares. */
typedef struct {
  size_t struct_size;
  const char* op;
  const char* name;
  xrt_device_kind_t device_kind;
  uint32_t dtype_mask;
  int32_t priority;
  xrt_kernel_supports_fn supports;
  xrt_kernel_run_fn run;
} kernel_def_abi10_t;

static const kernel_def_abi10_t kernels[] = {
    {sizeof(kernel_def_abi10_t), "add", "testadd.add_int32", XRT_DEVICE_CPU,
     XRT_DTYPE_BIT(XRT_INT32), 50, NULL, add_int32},
    /* The same kernel under a second name, reachable only by impl. */
    {sizeof(kernel_def_abi10_t), "add", "testadd.add_int32_second", XRT_DEVICE_CPU,
     XRT_DTYPE_BIT(XRT_INT32), 10, NULL, add_int32},
};

/* Declares the ABI 1.0 table size, as a plugin built before sessions were
 * appended would: the host must not read past it. */
static const xrt_plugin_api_t api = {
    offsetof(xrt_plugin_api_t, sessions), XRT_PLUGIN_ABI_MAJOR, 0, "testadd", "1.2.3",
    (const xrt_kernel_def_t*)kernels, sizeof kernels / sizeof kernels[0], NULL, NULL, NULL,
    NULL, 0, NULL, 0,
};

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  return host_abi_major == XRT_PLUGIN_ABI_MAJOR ? &api : NULL;
}
