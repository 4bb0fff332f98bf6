/* Declares a table that ends before the kernel list every host reads: the
 * loader must refuse it without reading past struct_size. */
#include <stddef.h>

#include "xpuruntime/xpuruntime_plugin.h"

static const xrt_plugin_api_t api = {
    offsetof(xrt_plugin_api_t, kernels), XRT_PLUGIN_ABI_MAJOR, 0, "shorttable", "0.0.1",
};

__attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  (void)host_abi_major;
  return &api;
}
