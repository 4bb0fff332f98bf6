// Session options: the xrt key/value strings, checked, then applied to ORT's
// session options.
#pragma once

#include <string>
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
};

xrt_status_t parse_options(const xrt_option_t* options, size_t num_options,
                           xrt_device_kind_t device_kind, int32_t device_index,
                           SessionConfig* config, char* error, size_t capacity);

xrt_status_t make_session_options(const SessionConfig& config, Owned<OrtSessionOptions>* out,
                                  char* error, size_t capacity);

}  // namespace xrt::ort
