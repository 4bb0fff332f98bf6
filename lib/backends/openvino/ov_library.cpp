#include "ov_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "runtime_library.h"

namespace xrt::ov {
namespace {

constexpr const char* kLibPrefix = "libopenvino_c.so";

struct Library {
  Functions fn{};
  bool loaded = false;
  ov_core_t* core = nullptr;
  std::string core_error;
  std::string version;
  std::string reason;
  std::string details;
  std::vector<std::string> devices;
};

Library& library() {
  static Library lib;
  return lib;
}

template <typename T>
bool bind(void* handle, const char* name, T& member, std::string& missing) {
  member = reinterpret_cast<T>(dlsym(handle, name));
  if (!member && missing.empty()) missing = name;
  return member != nullptr;
}

bool bind_all(void* h, Functions& f, std::string& missing) {
  bind(h, "ov_get_error_info", f.get_error_info, missing);
  bind(h, "ov_get_last_err_msg", f.get_last_err_msg, missing);
  bind(h, "ov_free", f.free, missing);
  bind(h, "ov_get_openvino_version", f.get_openvino_version, missing);
  bind(h, "ov_version_free", f.version_free, missing);
  bind(h, "ov_core_create", f.core_create, missing);
  bind(h, "ov_core_free", f.core_free, missing);
  bind(h, "ov_core_get_available_devices", f.core_get_available_devices, missing);
  bind(h, "ov_available_devices_free", f.available_devices_free, missing);
  bind(h, "ov_core_read_model", f.core_read_model, missing);
  bind(h, "ov_core_read_model_from_memory_buffer", f.core_read_model_from_memory_buffer,
       missing);
  bind(h, "ov_core_get_property", f.core_get_property, missing);
  bind(h, "ov_core_compile_model", f.core_compile_model, missing);
  bind(h, "ov_model_free", f.model_free, missing);
  bind(h, "ov_model_const_input_by_index", f.model_const_input_by_index, missing);
  bind(h, "ov_model_const_output_by_index", f.model_const_output_by_index, missing);
  bind(h, "ov_compiled_model_inputs_size", f.compiled_model_inputs_size, missing);
  bind(h, "ov_compiled_model_outputs_size", f.compiled_model_outputs_size, missing);
  bind(h, "ov_compiled_model_input_by_index", f.compiled_model_input_by_index, missing);
  bind(h, "ov_compiled_model_output_by_index", f.compiled_model_output_by_index, missing);
  bind(h, "ov_compiled_model_create_infer_request", f.compiled_model_create_infer_request,
       missing);
  bind(h, "ov_compiled_model_free", f.compiled_model_free, missing);
  bind(h, "ov_compiled_model_get_property", f.compiled_model_get_property, missing);
  bind(h, "ov_port_get_any_name", f.port_get_any_name, missing);
  bind(h, "ov_port_get_partial_shape", f.port_get_partial_shape, missing);
  bind(h, "ov_port_get_element_type", f.port_get_element_type, missing);
  bind(h, "ov_output_const_port_free", f.output_const_port_free, missing);
  bind(h, "ov_partial_shape_free", f.partial_shape_free, missing);
  bind(h, "ov_tensor_create_from_host_ptr", f.tensor_create_from_host_ptr, missing);
  bind(h, "ov_tensor_create", f.tensor_create, missing);
  bind(h, "ov_tensor_get_shape", f.tensor_get_shape, missing);
  bind(h, "ov_tensor_get_element_type", f.tensor_get_element_type, missing);
  bind(h, "ov_tensor_data", f.tensor_data, missing);
  bind(h, "ov_tensor_free", f.tensor_free, missing);
  bind(h, "ov_shape_free", f.shape_free, missing);
  bind(h, "ov_infer_request_set_input_tensor_by_index",
       f.infer_request_set_input_tensor_by_index, missing);
  bind(h, "ov_infer_request_infer", f.infer_request_infer, missing);
  bind(h, "ov_infer_request_get_profiling_info", f.infer_request_get_profiling_info, missing);
  bind(h, "ov_profiling_info_list_free", f.profiling_info_list_free, missing);
  bind(h, "ov_infer_request_get_output_tensor_by_index",
       f.infer_request_get_output_tensor_by_index, missing);
  bind(h, "ov_infer_request_free", f.infer_request_free, missing);
  return missing.empty();
}

bool try_open(const std::string& path, std::vector<std::string>& attempts) {
  void* handle = plugin::open_library(path, attempts);
  if (!handle) return false;
  Functions f{};
  std::string missing;
  if (!bind_all(handle, f, missing)) {
    attempts.push_back(path + ": has no " + missing + " (OpenVINO 2024.0 or newer is needed)");
    dlclose(handle);
    return false;
  }
  // Kept open for the life of the process, like the plugin itself.
  library().fn = f;
  return true;
}

void describe(Library& lib) {
  ov_version_t v{};
  if (lib.fn.get_openvino_version(&v) == kOk) {
    lib.version = v.buildNumber ? v.buildNumber : "";
    lib.fn.version_free(&v);
  }
  char message[512] = "";
  if (xrt_status_t s = take(lib.fn.core_create(&lib.core), message, sizeof message);
      s != XRT_OK) {
    lib.core = nullptr;
    lib.core_error = message;
    lib.details = "devices: none (" + lib.core_error + ")";
    return;
  }
  ov_available_devices_t devices{};
  if (lib.fn.core_get_available_devices(lib.core, &devices) == kOk) {
    for (size_t i = 0; i < devices.size; ++i) lib.devices.emplace_back(devices.devices[i]);
    lib.fn.available_devices_free(&devices);
  }
  lib.details = "devices: ";
  for (size_t i = 0; i < lib.devices.size(); ++i) {
    lib.details += (i ? ", " : "") + lib.devices[i];
  }
}

void load_once() {
  Library& lib = library();
  const std::vector<std::string> candidates = plugin::library_candidates(
      {"XRT_OPENVINO_LIB", "openvino/libs", kLibPrefix, {kLibPrefix}});

  std::vector<std::string> attempts;
  for (const std::string& path : candidates) {
    if (try_open(path, attempts)) {
      lib.loaded = true;
      break;
    }
  }
  if (!lib.loaded) {
    lib.reason =
        "openvino was not found (pip install xpuruntime[openvino] or pip install openvino); "
        "tried: " + plugin::join_attempts(attempts);
    lib.details = "unavailable: " + lib.reason;
    return;
  }
  describe(lib);
}

}  // namespace

bool load() {
  static std::once_flag once;
  std::call_once(once, load_once);
  return library().loaded;
}

const std::string& unavailable_reason() { return library().reason; }
const char* version() { return library().version.c_str(); }
const std::vector<std::string>& available_devices() { return library().devices; }
const Functions& api() { return library().fn; }

const char* details() {
  load();
  return library().details.c_str();
}

const ov_core_t* core(char* error, size_t capacity) {
  Library& lib = library();
  if (!lib.core) fail(XRT_ERROR_BACKEND, error, capacity, "%s", lib.core_error.c_str());
  return lib.core;
}

xrt_status_t take(ov_status_e status, char* error, size_t capacity) {
  if (status == kOk) return XRT_OK;
  const Functions& f = api();
  xrt_status_t result;
  switch (status) {
    case kNotFound: result = XRT_ERROR_NOT_FOUND; break;
    case kParameterMismatch:
    case kOutOfBounds:
    case kNetworkNotRead:
    case kInvalidCParam: result = XRT_ERROR_INVALID_ARGUMENT; break;
    case kNotImplemented: result = XRT_ERROR_UNSUPPORTED; break;
    default: result = XRT_ERROR_BACKEND; break;
  }
  const char* message = f.get_last_err_msg ? f.get_last_err_msg() : nullptr;
  const char* info = f.get_error_info ? f.get_error_info(status) : nullptr;
  std::string text = message && *message ? message : (info ? info : "unknown error");
  if (message && f.free) f.free(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  fail(result, error, capacity, "openvino: %s", text.c_str());
  return result;
}

}  // namespace xrt::ov
