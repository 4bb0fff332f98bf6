/* Answers every host with NULL ("cannot serve this ABI"). */
#include "xpuruntime/xpuruntime_plugin.h"

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  (void)host_abi_major;
  return NULL;
}
