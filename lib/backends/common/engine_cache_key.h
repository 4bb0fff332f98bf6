// The name of a TensorRT engine cache folder: a digest of everything that
// makes a built engine valid, so a changed model, shape range, precision,
// TensorRT version or GPU never picks up a stale engine.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace xrt::ort {

struct EngineCacheInputs {
  const void* model = nullptr;  // the model's bytes
  size_t model_size = 0;
  // Provider options that shape the engine (profiles, precision, ...), in
  // any order.
  std::vector<std::pair<std::string, std::string>> engine_options;
  std::string tensorrt_version;  // "10.3.0"
  std::string gpu;               // name and compute capability
};

// 16 hex digits; equal inputs give equal keys.
std::string engine_cache_key(const EngineCacheInputs& inputs);

}  // namespace xrt::ort
