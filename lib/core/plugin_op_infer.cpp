#include "plugin_op_infer.h"

#include "dtype.h"
#include "enum_code.h"
#include "error.h"
#include "plugin_result.h"

namespace xrt {

namespace {

bool same_shape(const OperandView& a, const OperandView& b) {
  if (a.ndim != b.ndim) return false;
  for (int32_t d = 0; d < a.ndim; ++d)
    if (a.shape[d] != b.shape[d]) return false;
  return true;
}

// No infer: every present input has the first input's shape.
void check_elementwise(const OpSchema& schema, const PreparedCall& call) {
  const OperandView& lead = call.views[0];
  for (size_t i = 1; i < call.num_inputs; ++i) {
    if (!call.inputs[i]) continue;
    XRT_REQUIRE(same_shape(call.views[i], lead), schema.name, ": ", schema.input_names[i],
                " has shape ", shape_string(call.views[i].ndim, call.views[i].shape), ", expected ",
                schema.input_names[0], "'s shape ", shape_string(lead.ndim, lead.shape),
                " (the op is element-wise)");
  }
}

void run_infer(const OpSchema& schema, const PreparedCall& call, xrt_op_output_desc_t* outputs) {
  // Operands as the kernel will see them, without their data.
  xrt_kernel_tensor_t inputs[kMaxOpInputs] = {};
  for (size_t i = 0; i < call.num_inputs; ++i) {
    const xrt_tensor* t = call.inputs[i];
    if (!t) continue;
    const OperandView& v = call.views[i];
    inputs[i] = xrt_kernel_tensor_t{nullptr, t->dtype, v.ndim, v.shape, v.strides,
                                    t->device->kind, t->device->index};
  }
  char error[512] = {0};
  const xrt_op_infer_context_t ctx{sizeof(xrt_op_infer_context_t),
                                   schema.name,
                                   inputs,
                                   call.num_inputs,
                                   call.attrs,
                                   call.num_attrs,
                                   outputs,
                                   call.num_outputs,
                                   error,
                                   sizeof error};
  const xrt_status_t returned = schema.infer(&ctx);
  if (const xrt_status_t status = plugin_status(returned); status != XRT_OK)
    fail(status, schema.name, ": ",
         plugin_message(error, sizeof error, returned, "its shape rule rejected the call"));
}

// A plugin's answer is checked like any value from outside the library.
void check_output(const OpSchema& schema, size_t index, const xrt_op_output_desc_t& out) {
  const std::string what = cat(schema.name, ": its shape rule gave output #", index);
  if (!dtype_valid(out.dtype))
    fail(XRT_ERROR_BACKEND, what, " dtype code ", enum_code(out.dtype), ", which is no xrt_dtype_t");
  if (out.ndim < 0 || out.ndim > XRT_MAX_DIMS)
    fail(XRT_ERROR_BACKEND, what, " ", out.ndim, " dimensions, expected 0 to ", XRT_MAX_DIMS);
  for (int32_t d = 0; d < out.ndim; ++d)
    if (out.shape[d] < 0)
      fail(XRT_ERROR_BACKEND, what, " shape ", shape_string(out.ndim, out.shape),
           ", whose sizes must be >= 0");
}

}  // namespace

void prepare_plugin_op(const OpSchema& schema, PreparedCall& call) {
  const OperandView& lead = call.views[0];
  xrt_op_output_desc_t outputs[kMaxOpOutputs] = {};
  for (size_t i = 0; i < call.num_outputs; ++i) {
    outputs[i].dtype = call.out_dtype[i];
    outputs[i].ndim = lead.ndim;
    for (int32_t d = 0; d < lead.ndim; ++d) outputs[i].shape[d] = lead.shape[d];
  }
  if (schema.infer)
    run_infer(schema, call, outputs);
  else
    check_elementwise(schema, call);
  for (size_t i = 0; i < call.num_outputs; ++i) {
    check_output(schema, i, outputs[i]);
    set_output(call, outputs[i].ndim, outputs[i].shape, i);
    call.out_dtype[i] = outputs[i].dtype;
  }
}

}  // namespace xrt
