// Entry point of the OpenVINO backend plugin.
#include "ov_devices.h"
#include "ov_library.h"
#include "ov_session.h"
#include "xpuruntime_plugin.h"

namespace {

const xrt_session_api_t kSessions = {
    sizeof(xrt_session_api_t),
    xrt::ov::session_create,
    xrt::ov::session_destroy,
    xrt::ov::session_input_count,
    xrt::ov::session_output_count,
    xrt::ov::session_input_info,
    xrt::ov::session_output_info,
    xrt::ov::session_run,
    xrt::ov::details,
    xrt::ov::session_collect_spans,
    xrt::ov::session_property,
    xrt::ov::session_create_on,
    nullptr,  // run_stoppable: a stop is reported when the run returns
    nullptr,  // run_values: OpenVINO sessions take tensors only
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  if (host_abi_major != XRT_PLUGIN_ABI_MAJOR) return nullptr;
  // A missing OpenVINO still yields the table; create/details explain why.
  static const xrt_plugin_api_t table = [] {
    xrt::ov::load();
    xrt_plugin_api_t t{};
    t.struct_size = sizeof(xrt_plugin_api_t);
    t.abi_major = XRT_PLUGIN_ABI_MAJOR;
    t.abi_minor = XRT_PLUGIN_ABI_MINOR;
    t.name = "openvino";
    t.version = xrt::ov::version();
    t.kernels = nullptr;
    t.num_kernels = 0;
    t.sessions = &kSessions;
    // NPUs and Intel GPUs OpenVINO finds become devices "npu:N", "gpu:N".
    t.device_tables = xrt::ov::device_tables(&t.num_device_tables);
    return t;
  }();
  return &table;
}
