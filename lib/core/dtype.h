// The one place that knows each dtype's size and name.
#pragma once

#include <cstddef>

#include "xpuruntime/xpuruntime.h"

namespace xrt {

bool dtype_valid(int dtype);
size_t dtype_size(xrt_dtype_t dtype);
const char* dtype_name(xrt_dtype_t dtype);
// Throws InvalidArgument naming the bad code when dtype is out of range.
void check_dtype(int dtype, const char* what);

}  // namespace xrt
