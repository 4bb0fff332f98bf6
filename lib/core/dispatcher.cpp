#include "dispatcher.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "dtype.h"
#include "enum_code.h"
#include "error.h"
#include "op_registry.h"
#include "plugin_op_infer.h"
#include "plugin_result.h"
#include "profiler.h"
#include "runtime.h"
#include "stream.h"

namespace xrt {

namespace {

void check_operands(const OpSchema& schema, PreparedCall& call,
                    const xrt_tensor_t* const* inputs, size_t num_inputs) {
  XRT_REQUIRE(num_inputs == 0 || inputs != nullptr, schema.name, ": inputs is NULL");
  XRT_REQUIRE(num_inputs <= schema.num_inputs, schema.name, ": got ", num_inputs,
              " inputs, expected at most ", schema.num_inputs);
  call.num_inputs = schema.num_inputs;
  for (size_t i = 0; i < schema.num_inputs; ++i) {
    const xrt_tensor* t = i < num_inputs ? inputs[i] : nullptr;
    XRT_REQUIRE(t || (schema.optional_inputs >> i & 1u), schema.name, ": input '",
                schema.input_names[i], "' is NULL");
    call.inputs[i] = t;
  }
  const xrt_tensor* lead = call.inputs[0];
  for (size_t i = 1; i < schema.num_inputs; ++i) {
    const xrt_tensor* t = call.inputs[i];
    if (!t) continue;
    XRT_REQUIRE(t->device == lead->device, schema.name, ": inputs are on different devices: ",
                schema.input_names[0], " on ", lead->device->name, ", ", schema.input_names[i],
                " on ", t->device->name);
    if (schema.int32_inputs >> i & 1u) {
      XRT_REQUIRE(t->dtype == XRT_INT32, schema.name, ": ", schema.input_names[i], " is ",
                  dtype_name(t->dtype), ", expected int32");
      continue;
    }
    if (schema.mask_inputs >> i & 1u) {
      XRT_REQUIRE(t->dtype == XRT_BOOL || t->dtype == lead->dtype || t->dtype == XRT_FLOAT32,
                  schema.name, ": ", schema.input_names[i], " is ", dtype_name(t->dtype),
                  ", expected bool (True = attend) or an additive ",
                  lead->dtype == XRT_FLOAT32 ? "" : dtype_name(lead->dtype),
                  lead->dtype == XRT_FLOAT32 ? "" : " or ", "float32 mask");
      continue;
    }
    if (schema.float32_inputs >> i & 1u) {
      XRT_REQUIRE(t->dtype == XRT_FLOAT32, schema.name, ": ", schema.input_names[i], " is ",
                  dtype_name(t->dtype), ", expected float32");
      continue;
    }
    XRT_REQUIRE(t->dtype == lead->dtype, schema.name, ": dtype mismatch: ", schema.input_names[0],
                " is ", dtype_name(lead->dtype), ", ", schema.input_names[i], " is ",
                dtype_name(t->dtype));
  }
}

void resolve_attrs(const OpSchema& schema, PreparedCall& call, const xrt_attr_t* attrs,
                   size_t num_attrs) {
  XRT_REQUIRE(num_attrs == 0 || attrs != nullptr, schema.name, ": attrs is NULL");
  call.num_attrs = schema.num_attrs;
  for (size_t i = 0; i < schema.num_attrs; ++i) call.attrs[i] = schema.attrs[i];
  for (size_t j = 0; j < num_attrs; ++j) {
    const xrt_attr_t& given = attrs[j];
    XRT_REQUIRE(given.name != nullptr, schema.name, ": attribute #", j, " has no name");
    size_t i = 0;
    while (i < schema.num_attrs && std::strcmp(schema.attrs[i].name, given.name) != 0) ++i;
    if (i == schema.num_attrs) {
      std::string expected;
      for (size_t k = 0; k < schema.num_attrs; ++k)
        expected += (k ? ", " : "") + std::string(schema.attrs[k].name);
      fail(XRT_ERROR_INVALID_ARGUMENT, schema.name, ": unknown attribute '", given.name,
           "' (expected: ", expected.empty() ? "none" : expected, ")");
    }
    // The caller's type is read as an integer: C may store any int there.
    const int32_t type = enum_code(given.type);
    XRT_REQUIRE(type == XRT_ATTR_INT || type == XRT_ATTR_FLOAT, schema.name, ": attribute '",
                given.name, "' has type code ", type, " (expected XRT_ATTR_INT (", XRT_ATTR_INT,
                ") or XRT_ATTR_FLOAT (", XRT_ATTR_FLOAT, "))");
    xrt_attr_t& slot = call.attrs[i];
    if (slot.type == XRT_ATTR_INT) {
      XRT_REQUIRE(type == XRT_ATTR_INT, schema.name, ": attribute '", given.name,
                  "' must be an integer");
      slot.i = given.i;
    } else {
      slot.f = type == XRT_ATTR_INT ? static_cast<double>(given.i) : given.f;
    }
  }
}

xrt_kernel_tensor_t kernel_operand(const xrt_tensor* t, const OperandView& view) {
  xrt_kernel_tensor_t k{};
  if (!t) return k;  // absent optional input: data NULL
  k.data = t->data;
  k.dtype = t->dtype;
  k.ndim = view.ndim;
  k.shape = view.shape;
  k.strides = view.strides;
  k.device_kind = t->device->kind;
  k.device_index = t->device->index;
  return k;
}

// A view a strided kernel reads in place: unit-stride last axis, 16-byte
// aligned start, positive strides that are multiples of 16 bytes (axes of
// length 1 aside).
bool strided_readable(const xrt_tensor* t) {
  if (reinterpret_cast<uintptr_t>(t->data) % 16 != 0) return false;
  const int64_t esize = static_cast<int64_t>(dtype_size(t->dtype));
  for (int32_t d = 0; d < t->ndim; ++d) {
    if (t->shape[d] == 1) continue;
    const int64_t stride = t->strides[d];
    if (d == t->ndim - 1 ? stride != 1 : stride <= 0 || stride * esize % 16 != 0) return false;
  }
  return true;
}

// Kernels load elements as their C++ type, which needs natural alignment;
// wrapped memory (a numpy array at an odd offset, a DLPack byte_offset) may
// lack it.
bool misaligned(const xrt_tensor* t) {
  return reinterpret_cast<uintptr_t>(t->data) % dtype_size(t->dtype) != 0;
}

bool needs_copy(InputLayout layout, bool row_major, const xrt_tensor* t) {
  if (misaligned(t)) return true;
  if (t->contiguous) return false;
  if (row_major) return true;
  switch (layout) {
    case InputLayout::kContiguous: return true;
    case InputLayout::kBroadcast: return false;
    case InputLayout::kStrided: return !strided_readable(t);
  }
  return true;
}

// Replaces input i by a row-major, aligned copy the call keeps alive.
void make_contiguous(PreparedCall& call, size_t i, void* stream) {
  const xrt_tensor* t = call.inputs[i];
  if (misaligned(t)) {
    call.temps[i] = TensorRef(tensor_create(t->device, t->dtype, t->ndim, t->shape, stream));
    tensor_copy(call.temps[i].get(), t, stream);
  } else {
    call.temps[i] = TensorRef(tensor_contiguous(t, stream));
  }
  call.inputs[i] = call.temps[i].get();
}

// The first kernel of impl (names separated by commas) that is registered
// for this call and accepts it.
const Kernel* forced_kernel(const OpSchema& schema, const char* impl, const xrt_device& device,
                            xrt_dtype_t dtype, const xrt_kernel_context_t& ctx) {
  const KernelRegistry& registry = Runtime::get().registry();
  std::string declined;  // "name: reason" of each registered kernel that refused
  const char* begin = impl;
  while (true) {
    const char* end = std::strchr(begin, ',');
    const std::string name = end ? std::string(begin, end) : std::string(begin);
    const Kernel* kernel = registry.find(schema.name, device.kind, dtype, name.c_str());
    if (kernel) {
      ctx.error[0] = '\0';
      if (!kernel->supports || kernel->supports(&ctx)) return kernel;
      ctx.error[ctx.error_capacity - 1] = '\0';  // a plugin may fill it to the end
      declined += (declined.empty() ? "" : "; ") + name + ": " +
                  (ctx.error[0] ? ctx.error : "its supports() declined without a message");
    }
    if (!end) break;
    begin = end + 1;
  }
  if (declined.empty())
    fail(XRT_ERROR_NOT_FOUND, schema.name, ": no kernel '", impl, "' for ", device.name,
         " with dtype ", dtype_name(dtype), " (registered for ", device_kind_name(device.kind),
         ": ", registry.describe(schema.name, device.kind), ")");
  fail(XRT_ERROR_UNSUPPORTED, schema.name, ": ", impl, " cannot run this call: ", declined);
}

}  // namespace

void run_op(const char* op, const char* impl, const xrt_tensor_t* const* inputs,
            size_t num_inputs, const xrt_attr_t* attrs, size_t num_attrs, xrt_stream* stream,
            xrt_tensor_t** outputs, size_t num_outputs) {
  XRT_REQUIRE(op != nullptr, "op name is NULL");
  const OpRegistry& ops = Runtime::get().ops();
  const OpSchema* schema = ops.find(op);
  if (!schema) fail(XRT_ERROR_NOT_FOUND, "unknown op '", op, "' (known ops: ", ops.names(), ")");
  XRT_REQUIRE(num_outputs == schema->num_outputs, schema->name, " has ", schema->num_outputs,
              " outputs, the call asked for ", num_outputs);

  PreparedCall call;
  call.op = schema->name;
  call.num_outputs = schema->num_outputs;
  check_operands(*schema, call, inputs, num_inputs);
  const xrt_tensor* lead = call.inputs[0];
  xrt_device* device = lead->device;
  XRT_REQUIRE(!stream || stream->device == device, schema->name, ": the stream belongs to ",
              stream ? stream->device->name : "", ", the inputs to ", device->name);
  void* native = native_stream(stream);
  resolve_attrs(*schema, call, attrs, num_attrs);

  for (size_t i = 0; i < call.num_inputs; ++i) {
    if (!call.inputs[i]) continue;
    const bool row_major = ((schema->int32_inputs | schema->mask_inputs) >> i & 1u) != 0;
    if (needs_copy(schema->layout, row_major, call.inputs[i])) make_contiguous(call, i, native);
    const xrt_tensor* t = call.inputs[i];
    OperandView& view = call.views[i];
    view.ndim = t->ndim;
    for (int32_t d = 0; d < t->ndim; ++d) {
      view.shape[d] = t->shape[d];
      view.strides[d] = t->strides[d];
    }
  }
  for (size_t i = 0; i < call.num_outputs; ++i) call.out_dtype[i] = lead->dtype;
  if (schema->prepare)
    schema->prepare(call);
  else
    prepare_plugin_op(*schema, call);

  xrt_kernel_tensor_t kernel_inputs[kMaxOpInputs];
  for (size_t i = 0; i < call.num_inputs; ++i)
    kernel_inputs[i] = kernel_operand(call.inputs[i], call.views[i]);
  xrt_kernel_tensor_t kernel_outputs[kMaxOpOutputs];
  for (size_t i = 0; i < call.num_outputs; ++i) {
    const OperandView& v = call.out_view[i];
    kernel_outputs[i] = xrt_kernel_tensor_t{nullptr,   call.out_dtype[i], v.ndim,       v.shape,
                                            v.strides, device->kind,      device->index};
  }
  char error[512] = {0};
  xrt_kernel_context_t ctx{sizeof(xrt_kernel_context_t),
                           schema->name,
                           kernel_inputs,
                           call.num_inputs,
                           kernel_outputs,
                           call.num_outputs,
                           call.attrs,
                           call.num_attrs,
                           native,
                           error,
                           sizeof error};
  // supports() sees the outputs' shapes with data still NULL.
  const KernelRegistry& registry = Runtime::get().registry();
  const Kernel* kernel = impl ? forced_kernel(*schema, impl, *device, lead->dtype, ctx)
                              : registry.select(schema->name, device->kind, lead->dtype, ctx);
  if (!kernel)
    fail(XRT_ERROR_UNSUPPORTED, "no kernel for op '", schema->name, "' on ", device->name,
         " with dtype ", dtype_name(lead->dtype), " (registered for ",
         device_kind_name(device->kind), ": ",
         registry.describe(schema->name, device->kind), ")");

  // An unflagged kernel of a strided op reads row-major inputs and writes
  // row-major outputs, staged here and copied into the outputs' layout.
  const bool stage = schema->layout == InputLayout::kStrided &&
                     !(kernel->flags & XRT_KERNEL_STRIDED);
  if (stage) {
    for (size_t i = 0; i < call.num_inputs; ++i) {
      if (!call.inputs[i] || call.inputs[i]->contiguous) continue;
      make_contiguous(call, i, native);
      contiguous_strides(call.views[i].ndim, call.views[i].shape, call.views[i].strides);
      kernel_inputs[i] = kernel_operand(call.inputs[i], call.views[i]);
    }
  }
  TensorRef out[kMaxOpOutputs], staged[kMaxOpOutputs];
  for (size_t i = 0; i < call.num_outputs; ++i) {
    const bool laid_out = schema->layout == InputLayout::kStrided;
    out[i] = TensorRef(tensor_create(device, call.out_dtype[i], call.out_ndim[i],
                                     call.out_shape[i], native,
                                     laid_out ? call.out_view[i].strides : nullptr));
    kernel_outputs[i].data = out[i]->data;
    if (stage && !out[i]->contiguous) {
      staged[i] = TensorRef(
          tensor_create(device, call.out_dtype[i], call.out_ndim[i], call.out_shape[i], native));
      contiguous_strides(call.out_view[i].ndim, call.out_view[i].shape, call.out_view[i].strides);
      kernel_outputs[i].data = staged[i]->data;
    }
  }

  ProfileSpan span("op", schema->name);
  if (span.active()) {
    span.arg("impl", kernel->name);
    span.arg("backend", kernel->backend);
    span.arg("dtype", dtype_name(lead->dtype));
    span.arg("device", device->name);
    for (size_t i = 0; i < call.num_inputs; ++i)
      if (call.inputs[i])
        span.arg(schema->input_names[i], shape_string(call.inputs[i]->ndim, call.inputs[i]->shape));
  }
  error[0] = '\0';  // a declining supports() may have left its reason
  const xrt_status_t returned = kernel->run(&ctx);
  if (const xrt_status_t status = plugin_status(returned); status != XRT_OK)
    fail(status, schema->name, " (", kernel->name, "): ",
         plugin_message(error, sizeof error, returned, "the kernel failed without a message"));
  for (size_t i = 0; i < call.num_outputs; ++i) {
    if (staged[i].get()) tensor_copy(out[i].get(), staged[i].get(), native);
    outputs[i] = out[i].release();
  }
}

}  // namespace xrt
