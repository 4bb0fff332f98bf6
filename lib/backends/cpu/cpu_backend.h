// The built-in CPU backend, registered through the same table as plugins.
#ifndef XRT_CPU_BACKEND_H_
#define XRT_CPU_BACKEND_H_

#include "xpuruntime/xpuruntime_plugin.h"

// Static table named "cpu" listing every CPU kernel; valid for the life of
// the process.
const xrt_plugin_api_t* xrt_cpu_backend_api();

#endif  // XRT_CPU_BACKEND_H_
