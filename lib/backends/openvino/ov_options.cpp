#include "ov_options.h"

#include "log_severity.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace xrt::ov {
namespace {

constexpr const char* kKnownKeys =
    "openvino_device, cache_dir, precision_hint, num_streams, inference_num_threads, "
    "enable_profiling, weights_path, log_severity_level";

bool is_count(const char* text, long min) {
  if (!text || !*text) return false;
  errno = 0;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  return errno == 0 && *end == '\0' && value >= min && value <= 1 << 20;
}

// "GPU.1" is served by "GPU.1" or by "GPU"; AUTO/MULTI/HETERO are virtual.
bool device_available(const std::string& device) {
  std::string_view base(device);
  base = base.substr(0, base.find_first_of(".:"));
  if (base == "AUTO" || base == "MULTI" || base == "HETERO" || base == "BATCH") return true;
  for (const std::string& d : available_devices()) {
    if (d == device || std::string_view(d).substr(0, d.find('.')) == device) return true;
  }
  return false;
}

}  // namespace

xrt_status_t parse_options(const xrt_option_t* options, size_t num_options,
                           const std::string& target, SessionConfig* config, char* error,
                           size_t capacity) {
  if (!target.empty()) config->device = target;
  for (size_t i = 0; i < num_options; ++i) {
    const char* key = options[i].key ? options[i].key : "";
    const char* value = options[i].value ? options[i].value : "";
    std::string_view k(key);
    if (k == "openvino_device") {
      if (!target.empty()) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "openvino: openvino_device='%s' and the session's device (OpenVINO's %s) "
                    "both name the device; openvino_device is for cpu sessions",
                    value, target.c_str());
      }
      if (!*value) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "openvino: openvino_device must not be empty");
      }
      config->device = value;
    } else if (k == "cache_dir") {
      config->cache_dir = value;
    } else if (k == "precision_hint") {
      if (std::strcmp(value, "f32") != 0 && std::strcmp(value, "f16") != 0 &&
          std::strcmp(value, "bf16") != 0) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "openvino: precision_hint must be f32, f16 or bf16, got '%s'", value);
      }
      config->properties.emplace_back("INFERENCE_PRECISION_HINT", value);
    } else if (k == "num_streams") {
      if (!is_count(value, 1) && std::strcmp(value, "AUTO") != 0) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "openvino: num_streams must be a positive integer or AUTO, got '%s'", value);
      }
      config->properties.emplace_back("NUM_STREAMS", value);
    } else if (k == "inference_num_threads") {
      if (!is_count(value, 0)) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "openvino: inference_num_threads must be a non-negative integer, got '%s'",
                    value);
      }
      config->properties.emplace_back("INFERENCE_NUM_THREADS", value);
    } else if (k == "weights_path") {
      if (!*value) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "openvino: weights_path must not be empty");
      }
      config->weights_path = value;
    } else if (k == "log_severity_level") {
      config->log_severity = plugin::parse_log_severity(value);
      if (config->log_severity < 0) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "openvino: log_severity_level must be 0 (verbose) to 4 (fatal), got '%s'",
                    value);
      }
    } else if (k == "enable_profiling") {
      if (std::strcmp(value, "0") != 0 && std::strcmp(value, "1") != 0) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "openvino: enable_profiling must be 0 or 1, got '%s'", value);
      }
      config->profiling = std::strcmp(value, "1") == 0;
      if (config->profiling) config->properties.emplace_back("PERF_COUNT", "YES");
    } else {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "openvino: unknown option '%s' (known: %s)", key, kKnownKeys);
    }
  }
  // OpenVINO's CPU plugin otherwise computes in bf16 on CPUs that have it; keep
  // results as exact as the other backends unless the caller asks otherwise.
  bool has_precision = false;
  for (const auto& p : config->properties) has_precision |= p.first == "INFERENCE_PRECISION_HINT";
  if (!has_precision && config->device == "CPU") {
    config->properties.emplace_back("INFERENCE_PRECISION_HINT", "f32");
  }
  if (!device_available(config->device)) {
    std::string have;
    for (const std::string& d : available_devices()) have += (have.empty() ? "" : ", ") + d;
    return fail(XRT_ERROR_NOT_FOUND, error, capacity,
                "openvino: device '%s' is not available (available: %s)",
                config->device.c_str(), have.empty() ? "none" : have.c_str());
  }
  return XRT_OK;
}

}  // namespace xrt::ov
