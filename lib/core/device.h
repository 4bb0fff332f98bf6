// Devices are created once by the runtime and live until the process exits.
#pragma once

#include <memory>
#include <string>

#include "memory_pool.h"
#include "xpuruntime/xpuruntime.h"

struct xrt_device {
  xrt_device_kind_t kind;
  int32_t index;
  std::string name;         // "cpu", "cuda:0"
  std::string description;  // model name
  uint64_t total_memory;
  int32_t compute_units;
  int32_t compute_capability;
  std::unique_ptr<xrt::RawAllocator> raw_allocator;
  std::unique_ptr<xrt::MemoryPool> pool;
};

namespace xrt {

const char* device_kind_name(xrt_device_kind_t kind);
// The host device: 64-byte aligned memory, CPU model and core count.
std::unique_ptr<xrt_device> make_host_device();

}  // namespace xrt
