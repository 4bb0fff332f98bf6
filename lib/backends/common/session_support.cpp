#include "session_support.h"

#include <cstdarg>
#include <cstddef>
#include <cstdio>

namespace xrt::plugin {

xrt_status_t fail(xrt_status_t status, char* error, size_t capacity, const char* format, ...) {
  if (error && capacity > 0) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(error, capacity, format, args);
    va_end(args);
  }
  return status;
}

void ValueInfo::seal() {
  dim_name_ptrs.clear();
  for (const std::string& dim : dim_names) dim_name_ptrs.push_back(dim.c_str());
}

void ValueInfo::describe(xrt_value_info_t* info) const {
  info->name = name.c_str();
  info->dtype = dtype;
  info->ndim = static_cast<int32_t>(shape.size());
  info->shape = shape.data();
  info->dim_names = dim_name_ptrs.data();
  // ABI 1.8 fields, inside the runtime's struct when it has them.
  if (info->struct_size >= offsetof(xrt_value_info_t, type) + sizeof(info->type)) {
    info->kind = kind;
    info->type = type.empty() ? nullptr : type.c_str();
  }
}

xrt_status_t describe_value(const std::vector<ValueInfo>& values, size_t index,
                            xrt_value_info_t* info) {
  if (index >= values.size() || !info) return XRT_ERROR_INVALID_ARGUMENT;
  values[index].describe(info);
  return XRT_OK;
}

bool given_output(const xrt_session_outputs_t* outputs, size_t position,
                  xrt_kernel_tensor_t* tensor) {
  return outputs->struct_size >= offsetof(xrt_session_outputs_t, given_output) + sizeof(void*) &&
         outputs->given_output && outputs->given_output(outputs->context, position, tensor) == 1;
}

}  // namespace xrt::plugin
