// ORT's CUDA allocations from the runtime's pool: one allocator per GPU,
// registered with ORT's environment and used by the sessions that ask for
// the environment's allocators (session.use_env_allocators).
#pragma once

#include <cstddef>
#include <cstdint>

#include "xpuruntime_plugin.h"

namespace xrt::ort {

// Called once when the runtime loads the plugin.
void attach_host(const xrt_host_api_t* host);

// False when the runtime offers no services (a host older than ABI 1.3).
bool has_pool_allocator();

// Registers the pool allocator of CUDA device `device` with ORT's
// environment, once per device.
xrt_status_t share_pool_allocator(int32_t device, char* error, size_t capacity);

}  // namespace xrt::ort
