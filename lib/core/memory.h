// Raw device memory as the C API hands it out, through the device's table.
#pragma once

#include "device.h"

namespace xrt {
xrt_memory_stats_t memory_stats(xrt_device* device);
void memory_empty_cache(xrt_device* device);
void memory_reset_peak(xrt_device* device);
}  // namespace xrt
