// Gives ORT's TensorRT provider an engine cache folder of its own per
// (model, engine options, TensorRT version, GPU): see engine_cache_key.h.
#pragma once

#include "ort_options.h"

namespace xrt::ort {

// Adds trt_engine_cache_enable/trt_engine_cache_path to the TensorRT request.
// The folder is <root>/tensorrt/<key>, root being the request's own
// trt_engine_cache_path, else $XRT_CACHE_DIR, $XDG_CACHE_HOME/xpuruntime or
// ~/.cache/xpuruntime. trt_engine_cache_enable=0 leaves the request alone; a
// folder that cannot be used turns the cache off with a warning, since
// building the engine again is slow but correct.
xrt_status_t add_engine_cache(ProviderRequest* tensorrt, const char* path, const void* data,
                              size_t size, int32_t device_index, char* error, size_t capacity);

}  // namespace xrt::ort
