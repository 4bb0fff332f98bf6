// Devices are created once by the runtime and live until the process exits.
// Every device, the host's included, is served by a device table
// (xrt_device_api_t): the host's own (host_device.cpp) for the CPU and for
// plugin devices that work on host memory, the plugin's for the others.
#pragma once

#include <memory>
#include <string>

#include "memory_pool.h"
#include "xpuruntime/xpuruntime_plugin.h"

struct xrt_device {
  xrt_device_kind_t kind;   // the code of kind_name (device_kind.cpp)
  int32_t index;
  std::string name;         // "cpu", "cuda:0", "npu:0"
  std::string kind_name;    // "cpu", "cuda", "npu"
  std::string description;  // model name
  uint64_t total_memory;
  int32_t compute_units;
  int32_t compute_capability;
  // Memory the host can read and write directly (the CPU's, and that of
  // plugin devices flagged XRT_DEVICE_HOST_MEMORY).
  bool host_memory = false;
  // The table serving memory, streams, events and copies, called with
  // `index`; never NULL.
  const xrt_device_api_t* api = nullptr;
  // Host-memory devices: the pool behind the host table. Tensors take their
  // blocks from it directly, so releasing one needs no lookup of the
  // pointer (the table's free() must find the block by pointer).
  xrt::MemoryPool* pool = nullptr;
  std::string backend;  // the backend that brought the device
};

namespace xrt {

// Device kinds by name. "cpu" and "cuda" hold their public codes in every
// process; any other name gets the next free code the first time it is
// named. Names are never removed, so returned names live until exit.
xrt_device_kind_t device_kind_code(const std::string& name);
// The code of `name`, or -1 when nothing has named that kind.
int32_t find_device_kind(const std::string& name);
// "cpu", "cuda", "npu"; "unknown" for a code never assigned.
const char* device_kind_name(xrt_device_kind_t kind);
// The kind a plugin's table or kernel entry names: kind_name when set (its
// spelling checked), else the integer kind, which must be cpu or cuda.
// Throws InvalidArgument naming `what` and the bad name or code.
xrt_device_kind_t plugin_device_kind(const char* kind_name, const xrt_device_kind_t& kind,
                                     const std::string& what);

// The host's device table: pooled 64-byte aligned memory, streams that are
// ordering tokens, events that are timestamps, copies with memcpy. Work is
// complete when its call returns.
const xrt_device_api_t* host_device_api();
// The pool the host table serves memory from.
MemoryPool& host_pool();
// The "cpu" device: CPU model and core count.
std::unique_ptr<xrt_device> make_host_device();
// Device `index` of a plugin's table for `kind`; host-memory devices are
// served by the host's table.
std::unique_ptr<xrt_device> make_plugin_device(const xrt_device_api_t* api, xrt_device_kind_t kind,
                                               int32_t index, const std::string& backend);

// Throws the table's message when a device-table call failed.
void check_device_call(const xrt_device* device, xrt_status_t status, const char* what);

// Raw memory on any device; `stream` is the native stream the memory is
// first used on (NULL: the default stream).
void* device_alloc(xrt_device* device, size_t nbytes, void* stream);
void device_free(xrt_device* device, void* ptr);

}  // namespace xrt
