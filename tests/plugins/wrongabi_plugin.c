/* Claims a future ABI major: the loader must refuse it and say why. */
#include "xpuruntime/xpuruntime_plugin.h"

static const xrt_plugin_api_t api = {
    sizeof(xrt_plugin_api_t), XRT_PLUGIN_ABI_MAJOR + 1, 0, "wrongabi", "0.0.1", NULL, 0, NULL, NULL,
    NULL, NULL, 0, NULL, 0,
};

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  (void)host_abi_major;
  return &api;
}
