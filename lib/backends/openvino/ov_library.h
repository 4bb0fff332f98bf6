// Finding and loading libopenvino_c, the process-wide ov_core, and turning
// OpenVINO's statuses into xrt statuses.
#pragma once

#include "session_support.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ov_abi.h"
#include "xpuruntime.h"

namespace xrt::ov {

// Loads OpenVINO once (thread-safe). False when no usable library was found;
// unavailable_reason() then says what was tried.
bool load();
const std::string& unavailable_reason();
const char* version();  // OpenVINO's build number, "" until loaded
// "devices: CPU, GPU" when loaded, "unavailable: <reason>" otherwise.
const char* details();
const std::vector<std::string>& available_devices();
const Functions& api();
// The core every session shares; NULL if it could not be created (error set).
const ov_core_t* core(char* error, size_t capacity);

// XRT_OK for OK; otherwise maps the code and writes "openvino: <message>".
xrt_status_t take(ov_status_e status, char* error, size_t capacity);
using plugin::fail;

struct Release {
  void operator()(ov_model_t* p) const { api().model_free(p); }
  void operator()(ov_compiled_model_t* p) const { api().compiled_model_free(p); }
  void operator()(ov_infer_request_t* p) const { api().infer_request_free(p); }
  void operator()(ov_tensor_t* p) const { api().tensor_free(p); }
  void operator()(ov_output_const_port_t* p) const { api().output_const_port_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Release>;

}  // namespace xrt::ov
