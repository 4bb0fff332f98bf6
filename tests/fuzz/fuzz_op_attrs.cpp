// Fuzzes the generic op entry points: op name (known, unknown or arbitrary
// text), number of inputs, each input's dtype, shape and memory layout
// (contiguous, permuted, stepped), the attribute list (names, type codes,
// values including NaN and infinities), the number of outputs and a forced
// implementation, into xrt_op_run / xrt_op_run_outputs / xrt_op_run_impl.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "fuzz_util.h"

namespace {

constexpr const char* kOps[] = {
    "add",      "matmul",        "gelu",       "softmax",  "layer_norm", "rms_norm",
    "layer_norm_backward", "rms_norm_backward", "attention", "attention_lse",
    "attention_backward", "add_layer_norm", "add_rms_norm", "add_layer_norm_backward",
    "add_rms_norm_backward", "bias_gelu", "bias_gelu_backward", "attention_varlen",
    "attention_varlen_lse", "attention_varlen_backward", "attention_decode", "kv_cache_append",
};
constexpr const char* kAttrNames[] = {"axis",        "eps",          "causal",
                                      "scale",       "allow_tf32",   "window_left",
                                      "causal_align", "max_seqlen_q", "max_seqlen_k",
                                      "",            "bogus"};
constexpr xrt_dtype_t kDtypes[] = {XRT_FLOAT32, XRT_FLOAT16, XRT_BFLOAT16, XRT_FLOAT64,
                                   XRT_INT32,   XRT_UINT8,   XRT_BOOL};
// attention_varlen_backward takes 8 inputs and 6 attributes.
constexpr size_t kMaxInputs = 8, kMaxOutputs = 4, kMaxAttrs = 6;
constexpr int64_t kMaxElements = 1 << 12;  // keeps attention and matmul fast

double fuzz_double(FuzzedDataProvider& in) {
  constexpr double kSpecial[] = {0.0, -0.0, 1e-5, -1.0, 1.0,
                                 std::numeric_limits<double>::quiet_NaN(),
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 std::numeric_limits<double>::max(),
                                 std::numeric_limits<double>::denorm_min()};
  return in.ConsumeBool() ? in.PickValueInArray(kSpecial) : in.ConsumeFloatingPoint<double>();
}

// An input tensor of fuzzed dtype and shape; its memory is laid out in a
// fuzzed axis order, optionally with a gap along one axis, and seen through
// strides (a view like a transpose or a slice) when `viewed`.
TensorPtr make_input(FuzzedDataProvider& in) {
  const xrt_dtype_t dtype = in.PickValueInArray(kDtypes);
  const int32_t ndim = in.ConsumeIntegralInRange<int32_t>(0, 5);
  int64_t shape[XRT_MAX_DIMS];
  int64_t numel = 1;
  for (int32_t i = 0; i < ndim; ++i) {
    shape[i] = in.ConsumeIntegralInRange<int>(0, 7) ? in.ConsumeIntegralInRange<int64_t>(0, 4)
                                                    : in.ConsumeIntegralInRange<int64_t>(5, 64);
    numel *= shape[i];
  }
  if (numel > kMaxElements) return nullptr;
  size_t item = 0;
  xrt_dtype_size(dtype, &item);

  int32_t order[XRT_MAX_DIMS];  // memory order, outermost first
  for (int32_t i = 0; i < ndim; ++i) order[i] = i;
  for (int32_t i = ndim - 1; i > 0; --i) std::swap(order[i], order[in.ConsumeIntegralInRange<int32_t>(0, i)]);
  const int32_t gap_axis = in.ConsumeIntegralInRange<int32_t>(-1, ndim - 1);
  int64_t strides[XRT_MAX_DIMS];
  int64_t span = 1;
  for (int32_t j = ndim - 1; j >= 0; --j) {
    const int32_t axis = order[j];
    strides[axis] = span * (axis == gap_axis ? 2 : 1);
    span = strides[axis] * (shape[axis] > 0 ? shape[axis] : 1);
  }
  // An empty tensor reads no memory, whatever its other axes span: one
  // element's worth keeps filling it from the input cheap.
  const size_t bytes = static_cast<size_t>(numel == 0 ? 1 : span) * item;
  auto* memory = new uint8_t[bytes];
  for (size_t i = 0; i < bytes; ++i) memory[i] = in.ConsumeIntegral<uint8_t>();
  // Floats from arbitrary bytes are often NaN or huge; keep them small
  // unless the input asks for raw bits.
  if (in.ConsumeBool() && dtype == XRT_FLOAT32)
    for (size_t i = 0; i < bytes / 4; ++i) reinterpret_cast<float*>(memory)[i] = memory[i * 4] / 64.0f - 2.0f;
  auto free_memory = [](void* data, void*) { delete[] static_cast<uint8_t*>(data); };
  xrt_tensor_t* raw = nullptr;
  if (xrt_tensor_wrap(cpu_device(), dtype, ndim, shape, strides, memory, free_memory, nullptr,
                      &raw) != XRT_OK) {
    delete[] memory;
    return nullptr;
  }
  return TensorPtr(raw);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string op = in.ConsumeIntegralInRange<int>(0, 15)
                             ? in.PickValueInArray(kOps)
                             : in.ConsumeRandomLengthString(24);

  const size_t num_inputs = in.ConsumeIntegralInRange<size_t>(0, kMaxInputs);
  TensorPtr owned[kMaxInputs];
  const xrt_tensor_t* inputs[kMaxInputs] = {};
  for (size_t i = 0; i < num_inputs; ++i) {
    if (in.ConsumeIntegralInRange<int>(0, 7) == 0) continue;  // an absent (NULL) input
    owned[i] = make_input(in);
    inputs[i] = owned[i].get();
  }

  const size_t num_attrs = in.ConsumeIntegralInRange<size_t>(0, kMaxAttrs);
  xrt_attr_t attrs[kMaxAttrs] = {};
  std::string names[kMaxAttrs];
  for (size_t i = 0; i < num_attrs; ++i) {
    const int pick = in.ConsumeIntegralInRange<int>(0, 15);
    names[i] = pick ? in.PickValueInArray(kAttrNames) : in.ConsumeRandomLengthString(12);
    attrs[i].name = pick == 1 ? nullptr : names[i].c_str();
    // Mostly the two codes, sometimes any int32 the library must refuse.
    attrs[i].type = static_cast<xrt_attr_type_t>(
        in.ConsumeIntegralInRange<int>(0, 7) ? in.ConsumeIntegralInRange<int32_t>(0, 1)
                                             : in.ConsumeIntegral<int32_t>());
    attrs[i].i = in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(-6, 6) : in.ConsumeIntegral<int64_t>();
    attrs[i].f = fuzz_double(in);
  }

  size_t num_outputs = in.ConsumeIntegralInRange<size_t>(0, kMaxOutputs);
  xrt_tensor_t* outputs[kMaxOutputs] = {};
  xrt_status_t status;
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      num_outputs = 1;
      status = xrt_op_run(op.c_str(), inputs, num_inputs, attrs, num_attrs, nullptr, outputs);
      break;
    case 1:
      status = xrt_op_run_outputs(op.c_str(), inputs, num_inputs, attrs, num_attrs, nullptr,
                                  outputs, num_outputs);
      break;
    default: {
      const std::string impl = in.ConsumeBool() ? "cpu." + op : in.ConsumeRandomLengthString(32);
      status = xrt_op_run_impl(op.c_str(), impl.c_str(), inputs, num_inputs, attrs, num_attrs,
                               nullptr, outputs, num_outputs);
    }
  }
  FUZZ_CHECK(known_status(status));
  for (size_t i = 0; i < num_outputs; ++i) {
    FUZZ_CHECK((outputs[i] != nullptr) == (status == XRT_OK));
    if (!outputs[i]) continue;
    xrt_tensor_info_t info = {sizeof info};
    FUZZ_CHECK(xrt_tensor_info(outputs[i], &info) == XRT_OK);
    xrt_tensor_release(outputs[i]);
  }
  return 0;
}
