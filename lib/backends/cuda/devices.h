// The plugin's GPUs: counted once when the plugin loads, with one
// allocator each. unavailable_reason() says why none can be used.
#pragma once

#include "device_allocator.h"

namespace xrt::cuda {

int device_count();
// NULL when the driver or a GPU is missing.
const char* unavailable_reason();
// Valid for 0 <= device < device_count().
DeviceAllocator& allocator(int device);
// XRT_OK, or XRT_ERROR_INVALID_ARGUMENT naming the bad index.
xrt_status_t check_device(int device);

}  // namespace xrt::cuda
