/* A table without a backend name: the loader must refuse it and list it
 * under the name its file gives. */
#include "xpuruntime/xpuruntime_plugin.h"

static const xrt_plugin_api_t api = {
    sizeof(xrt_plugin_api_t), XRT_PLUGIN_ABI_MAJOR, XRT_PLUGIN_ABI_MINOR, NULL, "0.0.1",
};

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  (void)host_abi_major;
  return &api;
}
