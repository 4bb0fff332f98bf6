// What the runtime offers plugins (xrt_host_api_t): allocations from its
// device pools, so a library a plugin runs allocates where xrt counts it.
#pragma once

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt {

const xrt_host_api_t* host_services();

}  // namespace xrt
