// Session options: the xrt key/value strings, checked, then applied to ORT's
// session options.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ort_library.h"

namespace xrt::ort {

struct ProviderRequest {
  std::string name;  // ORT's name, e.g. "CUDAExecutionProvider"
  std::vector<std::string> keys;
  std::vector<std::string> values;
};

struct SessionConfig {
  int intra_op_threads = -1;  // -1: ORT's default
  int inter_op_threads = -1;
  int optimization_level = -1;
  bool profiling = false;
  // GPU providers run on the runtime's default stream (CUDA's legacy
  // stream), so runs need not wait for the device before returning.
  bool on_default_stream = false;
  // The CUDA provider allocates from the runtime's pool (the environment's
  // shared allocator for the device).
  bool pool_allocator = false;
  std::vector<ProviderRequest> providers;  // priority order; CPU is ORT's implicit fallback
  // ORT's SessionOptions fields; -1 or empty: ORT's default.
  int log_severity = -1;  // -1: default_log_severity()
  int log_verbosity = -1;
  std::string log_id;
  int execution_mode = -1;  // 0 sequential, 1 parallel
  int mem_pattern = -1;     // 0 off, 1 on
  int cpu_mem_arena = -1;
  std::string optimized_model_path;
  std::vector<std::pair<std::string, std::string>> config_entries;  // session_config.<key>
  std::vector<std::string> custom_op_libraries;
};

// Custom op libraries ORT opened for one session; closed after it.
struct OpenLibraries {
  std::vector<void*> handles;
  OpenLibraries() = default;
  OpenLibraries(const OpenLibraries&) = delete;
  OpenLibraries& operator=(const OpenLibraries&) = delete;
  ~OpenLibraries();
};

xrt_status_t parse_options(const xrt_option_t* options, size_t num_options,
                           xrt_device_kind_t device_kind, int32_t device_index,
                           SessionConfig* config, char* error, size_t capacity);

// Libraries registered for custom ops land in `libraries`, which must
// outlive every session made with the options.
xrt_status_t make_session_options(const SessionConfig& config, Owned<OrtSessionOptions>* out,
                                  OpenLibraries* libraries, char* error, size_t capacity);

}  // namespace xrt::ort
