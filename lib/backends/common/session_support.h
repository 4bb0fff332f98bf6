// What every session plugin needs the same way: error text into the
// runtime's buffer, model input/output descriptions it can hand out, and
// the caller's output tensors of a run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xpuruntime_plugin.h"

namespace xrt::plugin {

// Writes the formatted message into error (truncated to capacity) and
// returns status.
xrt_status_t fail(xrt_status_t status, char* error, size_t capacity, const char* format, ...)
    __attribute__((format(printf, 4, 5)));

// One model input or output, owning the strings xrt_value_info_t points at.
struct ValueInfo {
  std::string name;
  xrt_dtype_t dtype = XRT_FLOAT32;
  std::vector<int64_t> shape;  // -1 where the model leaves a dimension open
  std::vector<std::string> dim_names;
  std::vector<const char*> dim_name_ptrs;  // into dim_names, filled by seal()
  xrt_value_kind_t kind = XRT_VALUE_TENSOR;
  std::string type;  // ONNX Runtime's type name; empty: the runtime names the tensor type

  // Call once dim_names is complete.
  void seal();
  void describe(xrt_value_info_t* info) const;
};

// values[index] into info, or XRT_ERROR_INVALID_ARGUMENT when out of range:
// the body of a session table's input_info and output_info.
xrt_status_t describe_value(const std::vector<ValueInfo>& values, size_t index,
                            xrt_value_info_t* info);

// The caller's tensor for output `position` of a run (runtimes of plugin
// ABI 1.9 and later give one for xrt_session_run_into), or false.
bool given_output(const xrt_session_outputs_t* outputs, size_t position,
                  xrt_kernel_tensor_t* tensor);

}  // namespace xrt::plugin
