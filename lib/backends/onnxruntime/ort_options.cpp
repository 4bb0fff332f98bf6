#include "ort_options.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "ort_device_memory.h"
#include "ort_logging.h"

namespace xrt::ort {
namespace {

constexpr const char* kKnownKeys =
    "intra_op_num_threads, inter_op_num_threads, graph_optimization_level, enable_profiling, "
    "providers, provider_option.<Provider>.<key>, log_severity_level, log_verbosity_level, "
    "logid, execution_mode, enable_mem_pattern, enable_cpu_mem_arena, "
    "optimized_model_filepath, session_config.<key>, custom_ops_library";
constexpr std::string_view kProviderOptionPrefix = "provider_option.";
constexpr std::string_view kConfigPrefix = "session_config.";
constexpr const char* kCpu = "CPUExecutionProvider";
constexpr const char* kCuda = "CUDAExecutionProvider";
constexpr const char* kTensorRT = "TensorrtExecutionProvider";
// cudaStreamLegacy, the handle of CUDA's legacy default stream, as ORT
// reads a stream option (an address in decimal).
constexpr const char* kLegacyStreamAddress = "1";

bool parse_int(const char* text, long min, long max, int* out) {
  if (!text || !*text) return false;
  errno = 0;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  *out = static_cast<int>(value);
  return true;
}

bool parse_flag(const char* text, int* out) { return parse_int(text, 0, 1, out); }

bool parse_flag(const char* text, bool* out) {
  int flag = 0;
  if (!parse_flag(text, &flag)) return false;
  *out = flag != 0;
  return true;
}

constexpr int kMaxThreads = 4096;
constexpr const char* kThreadCount = "an integer from 0 (ONNX Runtime's choice) to 4096";
constexpr const char* kFlag = "0 or 1";

bool parse_execution_mode(const char* text, int* out) {
  if (std::strcmp(text, "ORT_SEQUENTIAL") == 0) return *out = 0, true;
  if (std::strcmp(text, "ORT_PARALLEL") == 0) return *out = 1, true;
  return parse_flag(text, out);
}

bool parse_optimization_level(const char* text, int* out) {
  static constexpr struct {
    const char* ort_name;
    const char* short_name;
    int value;
  } kLevels[] = {
      {"ORT_DISABLE_ALL", "disable", 0},
      {"ORT_ENABLE_BASIC", "basic", 1},
      {"ORT_ENABLE_EXTENDED", "extended", 2},
      {"ORT_ENABLE_ALL", "all", 99},
  };
  for (const auto& level : kLevels) {
    if (std::strcmp(text, level.ort_name) == 0 || std::strcmp(text, level.short_name) == 0) {
      *out = level.value;
      return true;
    }
  }
  int value = 0;
  if (parse_int(text, 0, 99, &value) && (value <= 2 || value == 99)) {
    *out = value;
    return true;
  }
  return false;
}

const char* install_hint(std::string_view provider) {
  if (provider == kCuda || provider == kTensorRT) {
    return "pip install onnxruntime-gpu";
  }
  if (provider == "OpenVINOExecutionProvider") return "pip install onnxruntime-openvino";
  return "it is not available in this onnxruntime build";
}

ProviderRequest* find_provider(SessionConfig* config, std::string_view name) {
  for (ProviderRequest& p : config->providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool is_gpu_provider(std::string_view name) { return name == kCuda || name == kTensorRT; }

// Each provider the session will use must be compiled into this ORT.
xrt_status_t check_available(const SessionConfig& config, char* error, size_t capacity) {
  for (const ProviderRequest& p : config.providers) {
    if (!has_provider(p.name)) {
      std::string have;
      for (const std::string& name : available_providers()) {
        have += (have.empty() ? "" : ", ") + name;
      }
      return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "onnxruntime %s has no %s (%s; available: %s)", version(), p.name.c_str(),
                  install_hint(p.name), have.c_str());
    }
  }
  return XRT_OK;
}

bool has_key(const ProviderRequest& p, std::string_view key) {
  for (const std::string& k : p.keys) {
    if (k == key) return true;
  }
  return false;
}

void set_default(ProviderRequest* p, const char* key, std::string value) {
  if (has_key(*p, key)) return;
  p->keys.emplace_back(key);
  p->values.push_back(std::move(value));
}

// What a CUDA device's session does unless an option says otherwise: the
// GPU providers run on that device and on the runtime's default stream, and
// allocate from the runtime's pool.
void apply_gpu_defaults(int32_t device_index, SessionConfig* config) {
  bool own_stream = false;
  for (ProviderRequest& p : config->providers) {
    if (!is_gpu_provider(p.name)) continue;
    set_default(&p, "device_id", std::to_string(device_index));
    own_stream = own_stream || has_key(p, "user_compute_stream");
    set_default(&p, "user_compute_stream", kLegacyStreamAddress);
  }
  // A stream the caller chose keeps ORT's wait at the end of each run.
  config->on_default_stream = !own_stream;
  config->pool_allocator = has_pool_allocator();
}

xrt_status_t parse_providers(const char* text, SessionConfig* config, char* error,
                             size_t capacity) {
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) continue;
    if (find_provider(config, name)) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: provider %.*s is listed twice", static_cast<int>(name.size()),
                  name.data());
    }
    config->providers.push_back(ProviderRequest{std::string(name), {}, {}});
  }
  if (config->providers.empty()) {
    return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                "onnxruntime: option providers names no provider");
  }
  return XRT_OK;
}

std::string profile_prefix() {
  const char* dir = std::getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  return std::string(dir) + "/xpuruntime_onnxruntime_" + std::to_string(getpid());
}

// CUDA and TensorRT have their own option objects; every other provider
// goes through the generic by-name call.
template <typename Options>
xrt_status_t append_gpu(const ProviderRequest& p, OrtSessionOptions* session,
                        OrtStatus* (*create)(Options**),
                        OrtStatus* (*update)(Options*, const char* const*, const char* const*,
                                             size_t),
                        OrtStatus* (*append)(OrtSessionOptions*, const Options*),
                        char* error, size_t capacity) {
  Options* raw = nullptr;
  if (xrt_status_t s = take(create(&raw), error, capacity); s != XRT_OK) return s;
  Owned<Options> options(raw);
  std::vector<const char*> keys, values;
  for (size_t i = 0; i < p.keys.size(); ++i) {
    keys.push_back(p.keys[i].c_str());
    values.push_back(p.values[i].c_str());
  }
  if (!keys.empty()) {
    if (xrt_status_t s = take(update(raw, keys.data(), values.data(), keys.size()), error,
                              capacity);
        s != XRT_OK) {
      return s;
    }
  }
  return take(append(session, raw), error, capacity);
}

// ORT's message names the library the provider could not load; the hint
// says where the CUDA libraries come from.
xrt_status_t with_gpu_hint(xrt_status_t status, char* error, size_t capacity) {
  if (status == XRT_OK) return status;
  const std::string message = error;
  return fail(status, error, capacity,
              "%s (the GPU providers load CUDA 13, cuBLAS and cuDNN 9 libraries: "
              "pip install xpuruntime[cuda], or call onnxruntime.preload_dlls() first)",
              message.c_str());
}

xrt_status_t append_provider(const ProviderRequest& p, OrtSessionOptions* session, char* error,
                             size_t capacity) {
  const Functions& f = api();
  if (p.name == kCpu) return XRT_OK;
  if (p.name == kCuda) {
    return with_gpu_hint(
        append_gpu(p, session, f.CreateCUDAProviderOptions, f.UpdateCUDAProviderOptions,
                   f.SessionOptionsAppendExecutionProvider_CUDA_V2, error, capacity),
        error, capacity);
  }
  if (p.name == kTensorRT) {
    return with_gpu_hint(
        append_gpu(p, session, f.CreateTensorRTProviderOptions, f.UpdateTensorRTProviderOptions,
                   f.SessionOptionsAppendExecutionProvider_TensorRT_V2, error, capacity),
        error, capacity);
  }
  std::vector<const char*> keys, values;
  for (size_t i = 0; i < p.keys.size(); ++i) {
    keys.push_back(p.keys[i].c_str());
    values.push_back(p.values[i].c_str());
  }
  return take(f.SessionOptionsAppendExecutionProvider(session, p.name.c_str(), keys.data(),
                                                      values.data(), keys.size()),
              error, capacity);
}

// ORT's CPU provider takes one option, use_arena: the CPU memory arena.
xrt_status_t take_cpu_options(SessionConfig* config, char* error, size_t capacity) {
  const ProviderRequest* cpu = find_provider(config, kCpu);
  if (!cpu) return XRT_OK;
  for (size_t i = 0; i < cpu->keys.size(); ++i) {
    const std::string& value = cpu->values[i];
    if (cpu->keys[i] != "use_arena") {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: %s has no option '%s' (known: use_arena)", kCpu,
                  cpu->keys[i].c_str());
    }
    if (!parse_flag(value.c_str(), &config->cpu_mem_arena)) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: %s option use_arena must be 0 or 1, not '%s'", kCpu,
                  value.c_str());
    }
  }
  return XRT_OK;
}

}  // namespace

xrt_status_t parse_options(const xrt_option_t* options, size_t num_options,
                           xrt_device_kind_t device_kind, int32_t device_index,
                           SessionConfig* config, char* error, size_t capacity) {
  // provider_option.* entries refer to the providers list, which may come later.
  std::vector<const xrt_option_t*> provider_options;
  for (size_t i = 0; i < num_options; ++i) {
    const char* key = options[i].key ? options[i].key : "";
    const char* value = options[i].value ? options[i].value : "";
    bool ok = true;
    // What a valid value looks like, for the error message.
    const char* expected = "";
    if (std::strcmp(key, "intra_op_num_threads") == 0) {
      ok = parse_int(value, 0, kMaxThreads, &config->intra_op_threads);
      expected = kThreadCount;
    } else if (std::strcmp(key, "inter_op_num_threads") == 0) {
      ok = parse_int(value, 0, kMaxThreads, &config->inter_op_threads);
      expected = kThreadCount;
    } else if (std::strcmp(key, "graph_optimization_level") == 0) {
      ok = parse_optimization_level(value, &config->optimization_level);
      expected =
          "ORT_DISABLE_ALL, ORT_ENABLE_BASIC, ORT_ENABLE_EXTENDED, ORT_ENABLE_ALL, their short "
          "names disable, basic, extended, all, or 0, 1, 2, 99";
    } else if (std::strcmp(key, "enable_profiling") == 0) {
      ok = parse_flag(value, &config->profiling);
      expected = kFlag;
    } else if (std::strcmp(key, "log_severity_level") == 0) {
      ok = parse_int(value, 0, kLogFatal, &config->log_severity);
      expected = "0 (verbose) to 4 (fatal)";
    } else if (std::strcmp(key, "log_verbosity_level") == 0) {
      ok = parse_int(value, 0, 1000, &config->log_verbosity);
      expected = "an integer from 0 to 1000";
    } else if (std::strcmp(key, "logid") == 0) {
      config->log_id = value;
    } else if (std::strcmp(key, "execution_mode") == 0) {
      ok = parse_execution_mode(value, &config->execution_mode);
      expected = "ORT_SEQUENTIAL, ORT_PARALLEL, 0 or 1";
    } else if (std::strcmp(key, "enable_mem_pattern") == 0) {
      ok = parse_flag(value, &config->mem_pattern);
      expected = kFlag;
    } else if (std::strcmp(key, "enable_cpu_mem_arena") == 0) {
      ok = parse_flag(value, &config->cpu_mem_arena);
      expected = kFlag;
    } else if (std::strcmp(key, "optimized_model_filepath") == 0) {
      config->optimized_model_path = value;
    } else if (std::strcmp(key, "custom_ops_library") == 0) {
      ok = *value != '\0';
      expected = "the path of a shared library";
      config->custom_op_libraries.emplace_back(value);
    } else if (std::string_view(key).substr(0, kConfigPrefix.size()) == kConfigPrefix &&
               std::strlen(key) > kConfigPrefix.size()) {
      config->config_entries.emplace_back(key + kConfigPrefix.size(), value);
    } else if (std::strcmp(key, "providers") == 0) {
      config->providers.clear();
      if (xrt_status_t s = parse_providers(value, config, error, capacity); s != XRT_OK) {
        return s;
      }
    } else if (std::string_view(key).substr(0, kProviderOptionPrefix.size()) ==
               kProviderOptionPrefix) {
      provider_options.push_back(&options[i]);
    } else {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: unknown option '%s' (known: %s)", key, kKnownKeys);
    }
    if (!ok) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: option %s has an invalid value '%s' (expected %s)", key, value,
                  expected);
    }
  }

  if (device_kind == XRT_DEVICE_CUDA) {
    if (config->providers.empty()) config->providers.push_back(ProviderRequest{kCuda, {}, {}});
    if (!find_provider(config, kCuda) && !find_provider(config, kTensorRT)) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: a CUDA device needs %s or %s in providers", kCuda, kTensorRT);
    }
  } else if (device_kind != XRT_DEVICE_CPU) {
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "onnxruntime: device kind %d is not supported", static_cast<int>(device_kind));
  }

  for (const xrt_option_t* option : provider_options) {
    std::string_view rest = std::string_view(option->key).substr(kProviderOptionPrefix.size());
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: option '%s' must be provider_option.<Provider>.<key>",
                  option->key);
    }
    std::string_view provider = rest.substr(0, dot);
    ProviderRequest* request = find_provider(config, provider);
    if (!request) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: option '%s' names a provider that is not in providers",
                  option->key);
    }
    request->keys.emplace_back(rest.substr(dot + 1));
    request->values.emplace_back(option->value ? option->value : "");
  }

  if (xrt_status_t s = take_cpu_options(config, error, capacity); s != XRT_OK) return s;
  if (device_kind == XRT_DEVICE_CUDA) apply_gpu_defaults(device_index, config);
  return check_available(*config, error, capacity);
}

OpenLibraries::~OpenLibraries() {
  for (void* handle : handles) dlclose(handle);
}

xrt_status_t make_session_options(const SessionConfig& config, Owned<OrtSessionOptions>* out,
                                  OpenLibraries* libraries, char* error, size_t capacity) {
  const Functions& f = api();
  OrtSessionOptions* raw = nullptr;
  if (xrt_status_t s = take(f.CreateSessionOptions(&raw), error, capacity); s != XRT_OK) {
    return s;
  }
  Owned<OrtSessionOptions> options(raw);
  OrtStatus* status = nullptr;
  if (!status && config.intra_op_threads >= 0) {
    status = f.SetIntraOpNumThreads(raw, config.intra_op_threads);
  }
  if (!status && config.inter_op_threads >= 0) {
    status = f.SetInterOpNumThreads(raw, config.inter_op_threads);
  }
  if (!status && config.optimization_level >= 0) {
    status = f.SetSessionGraphOptimizationLevel(raw, config.optimization_level);
  }
  if (!status && config.profiling) status = f.EnableProfiling(raw, profile_prefix().c_str());
  const int severity = config.log_severity >= 0 ? config.log_severity : default_log_severity();
  if (!status) status = f.SetSessionLogSeverityLevel(raw, severity);
  if (!status && config.log_verbosity >= 0) {
    status = f.SetSessionLogVerbosityLevel(raw, config.log_verbosity);
  }
  if (!status && !config.log_id.empty()) status = f.SetSessionLogId(raw, config.log_id.c_str());
  if (!status && config.execution_mode >= 0) {
    status = f.SetSessionExecutionMode(raw, config.execution_mode);
  }
  if (!status && config.mem_pattern >= 0) {
    status = config.mem_pattern ? f.EnableMemPattern(raw) : f.DisableMemPattern(raw);
  }
  if (!status && config.cpu_mem_arena >= 0) {
    status = config.cpu_mem_arena ? f.EnableCpuMemArena(raw) : f.DisableCpuMemArena(raw);
  }
  if (!status && !config.optimized_model_path.empty()) {
    status = f.SetOptimizedModelFilePath(raw, config.optimized_model_path.c_str());
  }
  for (const auto& [key, value] : config.config_entries) {
    if (!status) status = f.AddSessionConfigEntry(raw, key.c_str(), value.c_str());
  }
  for (const std::string& library : config.custom_op_libraries) {
    void* handle = nullptr;
    if (!status) status = f.RegisterCustomOpsLibrary(raw, library.c_str(), &handle);
    if (handle) libraries->handles.push_back(handle);
  }
  if (!status && config.pool_allocator) {
    status = f.AddSessionConfigEntry(raw, "session.use_env_allocators", "1");
  }
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  for (const ProviderRequest& p : config.providers) {
    if (xrt_status_t s = append_provider(p, raw, error, capacity); s != XRT_OK) return s;
  }
  *out = std::move(options);
  return XRT_OK;
}

}  // namespace xrt::ort
