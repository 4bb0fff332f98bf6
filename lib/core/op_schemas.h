// What each op accepts and produces. A schema validates operands (messages
// name the bad shapes), computes the output shape and the views the kernel
// sees, and lists the op's attributes with their defaults. Built-in ops are
// listed here; plugins bring theirs as xrt_op_schema_t (plugin_op_schemas.h), read
// into the same OpSchema.
#pragma once

#include <string>

#include "tensor.h"
#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt {

// Built-in ops take up to 8 inputs (attention_backward with its masks);
// plugin ops up to XRT_OP_MAX_INPUTS.
constexpr size_t kMaxOpInputs = 8;
static_assert(kMaxOpInputs >= XRT_OP_MAX_INPUTS);
// Likewise up to 8 attributes (attention_varlen), plugin ops XRT_OP_MAX_ATTRS.
constexpr size_t kMaxOpAttrs = 8;
static_assert(kMaxOpAttrs >= XRT_OP_MAX_ATTRS);
constexpr size_t kMaxOpOutputs = XRT_OP_MAX_OUTPUTS;

struct OperandView {
  int32_t ndim = 0;
  int64_t shape[XRT_MAX_DIMS] = {};
  int64_t strides[XRT_MAX_DIMS] = {};
};

struct PreparedCall {
  const char* op = nullptr;
  const xrt_tensor* inputs[kMaxOpInputs] = {};  // NULL for an absent optional input
  OperandView views[kMaxOpInputs];
  size_t num_inputs = 0;
  size_t num_outputs = 1;
  int32_t out_ndim[kMaxOpOutputs] = {};  // the tensors handed back
  int64_t out_shape[kMaxOpOutputs][XRT_MAX_DIMS] = {};
  OperandView out_view[kMaxOpOutputs];  // what the kernel writes (matmul keeps vector axes)
  xrt_attr_t attrs[kMaxOpAttrs] = {};
  size_t num_attrs = 0;
  TensorRef temps[kMaxOpInputs];  // contiguous copies made for the kernel
  xrt_dtype_t out_dtype[kMaxOpOutputs] = {};  // the lead input's unless prepare says otherwise

  double float_attr(const char* name) const;
  int64_t int_attr(const char* name) const;
  void set_float_attr(const char* name, double value);
};

// How inputs reach the kernel.
enum class InputLayout {
  kContiguous,  // row-major copies of strided inputs
  kBroadcast,   // any strides, broadcast to the output's shape ("add")
  // Attention: views a kernel flagged XRT_KERNEL_STRIDED can read in place
  // (unit-stride last axis, 16-byte aligned start and positive strides)
  // pass as they are, others as row-major copies; unflagged kernels get
  // row-major inputs and outputs, copied into the outputs' layout after.
  kStrided,
};

struct OpSchema {
  const char* name;
  size_t num_inputs;
  const char* input_names[kMaxOpInputs];
  size_t num_outputs;
  uint32_t optional_inputs;  // bit i set: input i may be absent
  InputLayout layout;
  size_t num_attrs;
  xrt_attr_t attrs[kMaxOpAttrs];  // name, type and default (i or f)
  // Built-in ops shape the call themselves; NULL for a plugin's op, which
  // is shaped by its infer (prepare_plugin_op).
  void (*prepare)(PreparedCall& call);
  uint32_t float32_inputs;  // bit i set: input i is float32 whatever the others are
  xrt_op_infer_fn infer = nullptr;  // a plugin op's shape rule; NULL: element-wise
  // Inputs that are row-major whatever the layout (copied when not), with
  // their own dtype rule: bit i of int32_inputs set: input i is int32
  // (lengths, offsets, block tables); of mask_inputs: bool (True = keep) or
  // a float dtype added to the scores.
  uint32_t int32_inputs = 0;
  uint32_t mask_inputs = 0;
};

// The built-in op called name, or nullptr.
const OpSchema* find_builtin_op(const char* name);
// "add, matmul, ..." for error messages.
std::string builtin_op_names();

// Re-expresses a view in the broadcast shape: stride 0 on stretched axes.
void broadcast_view(OperandView& v, int32_t ndim, const int64_t* shape);

// Sets the call's output shape: the kernel writes contiguous `shape`.
void set_output(PreparedCall& call, int32_t ndim, const int64_t* shape, size_t index = 0);

}  // namespace xrt
