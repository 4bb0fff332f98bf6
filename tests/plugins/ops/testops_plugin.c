/* Brings two ops the core does not have, with float32 CPU kernels:
 *   testops.scale_shift(x, offset?; scale=1, shift=0) = x * scale + shift
 *     (+ offset), element-wise: no shape rule of its own;
 *   testops.row_stats(x) = (sum, max) over x's last axis, whose shape rule
 *     drops that axis and rejects scalars and empty rows. */
#include <float.h>
#include <stdio.h>

#include "xpuruntime/xpuruntime_plugin.h"

static int64_t numel(const xrt_kernel_tensor_t* t) {
  int64_t n = 1;
  for (int32_t d = 0; d < t->ndim; ++d) n *= t->shape[d];
  return n;
}

static double attr(const xrt_kernel_context_t* ctx, const char* name) {
  for (size_t i = 0; i < ctx->num_attrs; ++i) {
    const xrt_attr_t* a = &ctx->attrs[i];
    const char *p = a->name, *q = name;
    while (*p && *p == *q) ++p, ++q;
    if (*p == *q) return a->type == XRT_ATTR_FLOAT ? a->f : (double)a->i;
  }
  return 0;
}

static xrt_status_t scale_shift(const xrt_kernel_context_t* ctx) {
  const float* x = (const float*)ctx->inputs[0].data;
  const float* offset = (const float*)ctx->inputs[1].data; /* NULL when absent */
  float* y = (float*)ctx->outputs[0].data;
  const float scale = (float)attr(ctx, "scale"), shift = (float)attr(ctx, "shift");
  const int64_t n = numel(&ctx->outputs[0]);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale + shift + (offset ? offset[i] : 0.0f);
  return XRT_OK;
}

static xrt_status_t row_stats_infer(const xrt_op_infer_context_t* ctx) {
  const xrt_kernel_tensor_t* x = &ctx->inputs[0];
  if (x->ndim == 0 || x->shape[x->ndim - 1] == 0) {
    snprintf(ctx->error, ctx->error_capacity,
             "testops.row_stats: x needs a non-empty last axis, got %d dimensions", x->ndim);
    return XRT_ERROR_INVALID_ARGUMENT;
  }
  for (size_t o = 0; o < ctx->num_outputs; ++o) ctx->outputs[o].ndim = x->ndim - 1;
  return XRT_OK;
}

static xrt_status_t row_stats(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t* x = &ctx->inputs[0];
  const int64_t row = x->shape[x->ndim - 1], rows = numel(x) / row;
  const float* in = (const float*)x->data;
  float* sum = (float*)ctx->outputs[0].data;
  float* max = (float*)ctx->outputs[1].data;
  for (int64_t r = 0; r < rows; ++r) {
    float s = 0, m = -FLT_MAX;
    for (int64_t i = 0; i < row; ++i) {
      const float v = in[r * row + i];
      s += v;
      if (v > m) m = v;
    }
    sum[r] = s;
    max[r] = m;
  }
  return XRT_OK;
}

static const char* const scale_shift_inputs[] = {"x", "offset"};
static const xrt_attr_t scale_shift_attrs[] = {
    {"scale", XRT_ATTR_FLOAT, 0, 1.0},
    {"shift", XRT_ATTR_FLOAT, 0, 0.0},
};
static const char* const row_stats_inputs[] = {"x"};

static const xrt_op_schema_t ops[] = {
    {sizeof(xrt_op_schema_t), "testops.scale_shift", scale_shift_inputs, 2, 0x2u, 1,
     scale_shift_attrs, 2, NULL},
    {sizeof(xrt_op_schema_t), "testops.row_stats", row_stats_inputs, 1, 0, 2, NULL, 0,
     row_stats_infer},
};

static const xrt_kernel_def_t kernels[] = {
    {sizeof(xrt_kernel_def_t), "testops.scale_shift", "testops.scale_shift_f32", XRT_DEVICE_CPU,
     XRT_DTYPE_BIT(XRT_FLOAT32), 50, NULL, scale_shift, 0, NULL},
    {sizeof(xrt_kernel_def_t), "testops.row_stats", "testops.row_stats_f32", XRT_DEVICE_CPU,
     XRT_DTYPE_BIT(XRT_FLOAT32), 50, NULL, row_stats, 0, NULL},
};

static const xrt_plugin_api_t api = {
    sizeof(xrt_plugin_api_t), XRT_PLUGIN_ABI_MAJOR, XRT_PLUGIN_ABI_MINOR, "testops", "0.0.1",
    kernels, sizeof kernels / sizeof kernels[0], NULL, NULL, NULL,
    ops, sizeof ops / sizeof ops[0], NULL, 0,
};

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  return host_abi_major == XRT_PLUGIN_ABI_MAJOR ? &api : NULL;
}
