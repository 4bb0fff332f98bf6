#include "memory.h"

namespace xrt {

xrt_memory_stats_t memory_stats(xrt_device* device) {
  xrt_memory_stats_t stats{};
  stats.struct_size = sizeof stats;
  check_device_call(device, device->api->memory_stats(device->index, &stats),
                    "reading memory stats");
  return stats;
}

void memory_empty_cache(xrt_device* device) {
  check_device_call(device, device->api->empty_cache(device->index), "emptying the cache");
}

void memory_reset_peak(xrt_device* device) {
  check_device_call(device, device->api->reset_peak(device->index), "resetting the peak");
}

}  // namespace xrt
