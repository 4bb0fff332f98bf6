// The TensorRT engine cache key changes with each thing that makes an engine
// stale (model bytes, engine options, TensorRT version, GPU) and with nothing
// else (option order).
#include <string>

#include "engine_cache_key.h"
#include "unit_check.h"

using xrt::ort::engine_cache_key;
using xrt::ort::EngineCacheInputs;

using unit::check;

int main() {
  const std::string model = "model bytes";
  EngineCacheInputs base;
  base.model = model.data();
  base.model_size = model.size();
  base.engine_options = {{"trt_fp16_enable", "1"}, {"trt_profile_min_shapes", "x:1x3"}};
  base.tensorrt_version = "10.3.0";
  base.gpu = "NVIDIA H100 80GB HBM3 sm_90";
  const std::string key = engine_cache_key(base);
  check(key.size() == 16 && key.find_first_not_of("0123456789abcdef") == std::string::npos,
        "16 hex digits");
  check(engine_cache_key(base) == key, "same inputs, same key");

  EngineCacheInputs reordered = base;
  std::swap(reordered.engine_options[0], reordered.engine_options[1]);
  check(engine_cache_key(reordered) == key, "option order does not matter");

  const std::string other_model = "model bytez";
  EngineCacheInputs changed = base;
  changed.model = other_model.data();
  check(engine_cache_key(changed) != key, "model bytes");
  changed = base;
  changed.engine_options[1].second = "x:1x4";
  check(engine_cache_key(changed) != key, "shape range");
  changed = base;
  changed.engine_options[0].second = "0";
  check(engine_cache_key(changed) != key, "precision");
  changed = base;
  changed.tensorrt_version = "10.4.0";
  check(engine_cache_key(changed) != key, "TensorRT version");
  changed = base;
  changed.gpu = "NVIDIA H200 sm_90";
  check(engine_cache_key(changed) != key, "GPU");
  changed = base;
  changed.engine_options = {{"trt_fp16_enable", "1trt_profile_min_shapes"}, {"", "x:1x3"}};
  check(engine_cache_key(changed) != key, "field boundaries");

  return unit::report("engine_cache_key");
}
