// ORT's CUDA allocations from the runtime's pool: the CUDA execution
// provider takes plain alloc/free functions (gpu_external_alloc/free), so
// each GPU gets a pair that forwards to the runtime's services.
#pragma once

#include <cstdint>
#include <string>

#include "xpuruntime_plugin.h"

namespace xrt::ort {

// Called once when the runtime loads the plugin.
void attach_host(const xrt_host_api_t* host);

// The provider option values (function addresses as decimal text) that make
// ORT allocate device `device` memory from the runtime; false when the
// runtime offers no services or the device number is beyond the table.
bool pool_allocator_options(int32_t device, std::string* alloc, std::string* free);

}  // namespace xrt::ort
