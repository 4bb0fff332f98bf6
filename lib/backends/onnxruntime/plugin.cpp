// Entry point of the ONNX Runtime backend plugin.
#include "ort_device_memory.h"
#include "ort_library.h"
#include "ort_session.h"
#include "xpuruntime_plugin.h"

namespace {

const xrt_session_api_t kSessions = {
    sizeof(xrt_session_api_t),
    xrt::ort::session_create,
    xrt::ort::session_destroy,
    xrt::ort::session_input_count,
    xrt::ort::session_output_count,
    xrt::ort::session_input_info,
    xrt::ort::session_output_info,
    xrt::ort::session_run,
    xrt::ort::details,
    xrt::ort::session_collect_spans,
    xrt::ort::session_property,
    nullptr,  // runs models on cpu and cuda only, named by their codes
    xrt::ort::session_run_stoppable,
    xrt::ort::session_run_values,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const xrt_plugin_api_t* xrt_plugin_get_api(
    uint32_t host_abi_major) {
  if (host_abi_major != XRT_PLUGIN_ABI_MAJOR) return nullptr;
  // Loading here (not at first session) lets the table carry ORT's version;
  // a missing ORT still yields the table, and create/details explain why.
  static const xrt_plugin_api_t table = [] {
    xrt::ort::load();
    xrt_plugin_api_t t{};
    t.struct_size = sizeof(xrt_plugin_api_t);
    t.abi_major = XRT_PLUGIN_ABI_MAJOR;
    t.abi_minor = XRT_PLUGIN_ABI_MINOR;
    t.name = "onnxruntime";
    t.version = xrt::ort::version();
    t.kernels = nullptr;
    t.num_kernels = 0;
    t.sessions = &kSessions;
    t.attach_host = xrt::ort::attach_host;
    return t;
  }();
  return &table;
}
