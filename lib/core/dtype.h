// Checks dtype codes from outside the library; sizes and names come from
// the one table in backends/common/dtype_table.h.
#pragma once

#include <cstddef>

#include "xpuruntime/xpuruntime.h"

namespace xrt {

// Whether `dtype` holds a known code; safe on any value a C caller or a
// plugin stored (read as an integer, see enum_code.h).
bool dtype_valid(const xrt_dtype_t& dtype);
// A dtype from outside the library, checked before it is used as an enum or
// an index: throws InvalidArgument naming the bad code and the valid range.
xrt_dtype_t checked_dtype(const xrt_dtype_t& dtype, const char* what);
// Size and name of a dtype already checked.
size_t dtype_size(xrt_dtype_t dtype);
const char* dtype_name(xrt_dtype_t dtype);

}  // namespace xrt
