// Devices are created once by the runtime and live until the process exits.
// The host device owns a MemoryPool; a plugin's device routes memory,
// streams, events and copies through the plugin's device table.
#pragma once

#include <memory>
#include <string>

#include "memory_pool.h"
#include "xpuruntime/xpuruntime_plugin.h"

struct xrt_device {
  xrt_device_kind_t kind;
  int32_t index;
  std::string name;         // "cpu", "cuda:0"
  std::string description;  // model name
  uint64_t total_memory;
  int32_t compute_units;
  int32_t compute_capability;
  // Host device only.
  std::unique_ptr<xrt::RawAllocator> raw_allocator;
  std::unique_ptr<xrt::MemoryPool> pool;
  // Plugin devices only: the table and the plugin's own device number.
  const xrt_device_api_t* api = nullptr;
  std::string backend;
};

namespace xrt {

const char* device_kind_name(xrt_device_kind_t kind);
// A device kind from a plugin table, checked as the integer it holds before
// it is used as the enum: throws InvalidArgument naming the bad code.
xrt_device_kind_t checked_device_kind(const xrt_device_kind_t& kind, const std::string& what);
// The host device: 64-byte aligned memory, CPU model and core count.
std::unique_ptr<xrt_device> make_host_device();
// Device `index` of a plugin's device table.
std::unique_ptr<xrt_device> make_plugin_device(const xrt_device_api_t* api, int32_t index,
                                               const std::string& backend);

// Throws the plugin's message when a device-table call failed.
void check_device_call(const xrt_device* device, xrt_status_t status, const char* what);

// Raw memory on any device; `stream` is the plugin stream the memory is
// first used on (NULL: the default stream).
void* device_alloc(xrt_device* device, size_t nbytes, void* stream);
void device_free(xrt_device* device, void* ptr);

}  // namespace xrt
