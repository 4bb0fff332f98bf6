/* int32 kernels that each fail in a way a careless plugin might; the
 * runtime must turn every one into a typed error with a bounded message:
 *   add     returns XRT_ERROR_BACKEND and writes no message,
 *   gelu    is declined by its supports() without a reason,
 *   softmax returns a status code the ABI does not define,
 *   matmul  fills the whole error buffer and leaves it unterminated: its
 *           last byte is '!', where the runtime must put the NUL. */
#include <string.h>

#include "xpuruntime/xpuruntime_plugin.h"

#define UNDEFINED_STATUS 7777

static xrt_status_t fail_silently(const xrt_kernel_context_t* ctx) {
  (void)ctx;
  return XRT_ERROR_BACKEND;
}

static int32_t decline_silently(const xrt_kernel_context_t* ctx) {
  (void)ctx;
  return 0;
}

static xrt_status_t never_runs(const xrt_kernel_context_t* ctx) {
  (void)ctx;
  return XRT_OK;
}

static xrt_status_t fail_with_undefined_status(const xrt_kernel_context_t* ctx) {
  strncpy(ctx->error, "badkernel: undefined status", ctx->error_capacity);
  return (xrt_status_t)UNDEFINED_STATUS;
}

static xrt_status_t fail_unterminated(const xrt_kernel_context_t* ctx) {
  memset(ctx->error, 'x', ctx->error_capacity - 1);
  ctx->error[ctx->error_capacity - 1] = '!';
  return XRT_ERROR_BACKEND;
}

#define INT32_KERNEL(op, name, supports, run) \
  {sizeof(xrt_kernel_def_t), op, name, XRT_DEVICE_CPU, XRT_DTYPE_BIT(XRT_INT32), 50, supports, run, 0}

static const xrt_kernel_def_t kernels[] = {
    INT32_KERNEL("add", "badkernel.add_silent", NULL, fail_silently),
    INT32_KERNEL("gelu", "badkernel.gelu_declines", decline_silently, never_runs),
    INT32_KERNEL("softmax", "badkernel.softmax_undefined_status", NULL, fail_with_undefined_status),
    INT32_KERNEL("matmul", "badkernel.matmul_unterminated", NULL, fail_unterminated),
};

static const xrt_plugin_api_t api = {
    sizeof(xrt_plugin_api_t), XRT_PLUGIN_ABI_MAJOR, XRT_PLUGIN_ABI_MINOR, "badkernel", "0.0.1",
    kernels, sizeof kernels / sizeof kernels[0],
};

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  return host_abi_major == XRT_PLUGIN_ABI_MAJOR ? &api : NULL;
}
