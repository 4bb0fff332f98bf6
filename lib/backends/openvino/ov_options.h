// Session options: the xrt key/value strings, checked, then turned into the
// OpenVINO device name and compile properties.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ov_library.h"

namespace xrt::ov {

struct SessionConfig {
  std::string device = "CPU";
  std::string cache_dir;  // the user's folder; the session adds a keyed subfolder
  bool profiling = false;  // enable_profiling: per-node spans into the xrt trace
  // The weights (.bin) of an OpenVINO IR model; needed when the IR's XML
  // comes as bytes, optional beside an .xml path (OpenVINO looks next to it).
  std::string weights_path;
  int log_severity = -1;  // log_severity_level; -1: plugin::default_log_severity()
  // OpenVINO property key/value pairs, e.g. {"INFERENCE_PRECISION_HINT", "f16"}.
  std::vector<std::pair<std::string, std::string>> properties;
};

// `target` is the OpenVINO device the session's device is ("NPU", "GPU.1"),
// or "" for a cpu session, whose OpenVINO device the option openvino_device
// picks (CPU by default). Unknown keys and bad values give
// XRT_ERROR_INVALID_ARGUMENT; a device OpenVINO does not list gives
// XRT_ERROR_NOT_FOUND.
xrt_status_t parse_options(const xrt_option_t* options, size_t num_options,
                           const std::string& target, SessionConfig* config, char* error,
                           size_t capacity);

}  // namespace xrt::ov
