#pragma once

#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt::cuda {
const xrt_device_api_t* device_api();
}
