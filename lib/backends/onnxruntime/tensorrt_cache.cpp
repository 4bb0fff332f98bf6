#include "tensorrt_cache.h"

#include <dlfcn.h>

#include <cstdlib>

#include "cache_folder.h"
#include "engine_cache_key.h"
#include "file_read.h"

namespace xrt::ort {
namespace {

constexpr const char* kCachePath = "trt_engine_cache_path";
constexpr const char* kCacheEnable = "trt_engine_cache_enable";

// Options that say where files go rather than what the engine is.
bool names_a_location(const std::string& key) {
  return key.rfind("trt_engine_cache_", 0) == 0 || key.rfind("trt_timing_cache_", 0) == 0 ||
         key.rfind("trt_dump_", 0) == 0 || key == "device_id";
}

// "10.3.0" from libnvinfer's getInferLibVersion (major*10000+minor*100+patch
// since TensorRT 10; major*1000+minor*100+patch before).
bool tensorrt_version(std::string* version, std::string* tried) {
  for (const char* name : {"libnvinfer.so.10", "libnvinfer.so.8", "libnvinfer.so"}) {
    *tried += std::string(*tried->c_str() ? ", " : "") + name;
    void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) continue;
    auto get = reinterpret_cast<int32_t (*)()>(dlsym(lib, "getInferLibVersion"));
    if (!get) continue;
    const int32_t v = get();
    const int32_t major = v >= 100000 ? v / 10000 : v / 1000;
    const int32_t rest = v >= 100000 ? v % 10000 : v % 1000;
    *version = std::to_string(major) + "." + std::to_string(rest / 100) + "." +
               std::to_string(rest % 100);
    return true;
  }
  return false;
}

// "NVIDIA H100 80GB HBM3 sm_90" through the CUDA driver API.
bool gpu_identity(int32_t device_index, std::string* gpu) {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return false;
  using InitFn = int (*)(unsigned);
  using GetFn = int (*)(int*, int);
  using NameFn = int (*)(char*, int, int);
  using AttrFn = int (*)(int*, int, int);
  auto init = reinterpret_cast<InitFn>(dlsym(lib, "cuInit"));
  auto get = reinterpret_cast<GetFn>(dlsym(lib, "cuDeviceGet"));
  auto name = reinterpret_cast<NameFn>(dlsym(lib, "cuDeviceGetName"));
  auto attr = reinterpret_cast<AttrFn>(dlsym(lib, "cuDeviceGetAttribute"));
  constexpr int kMajor = 75, kMinor = 76;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_*
  int device = 0, major = 0, minor = 0;
  char text[256] = {0};
  if (!init || !get || !name || !attr || init(0) || get(&device, device_index) ||
      name(text, sizeof text, device) || attr(&major, kMajor, device) ||
      attr(&minor, kMinor, device))
    return false;
  *gpu = std::string(text) + " sm_" + std::to_string(major) + std::to_string(minor);
  return true;
}

}  // namespace

xrt_status_t add_engine_cache(ProviderRequest* tensorrt, const char* path, const void* data,
                              size_t size, int32_t device_index, char* error, size_t capacity) {
  EngineCacheInputs inputs;
  std::string root;
  std::vector<std::string> keys, values;
  for (size_t i = 0; i < tensorrt->keys.size(); ++i) {
    const std::string& key = tensorrt->keys[i];
    if (key == kCacheEnable) {
      if (tensorrt->values[i] == "0") return XRT_OK;
      continue;  // set below
    }
    if (key == kCachePath) {
      root = tensorrt->values[i];
      continue;  // replaced by the keyed folder below
    }
    if (key == "device_id") device_index = std::atoi(tensorrt->values[i].c_str());
    if (!names_a_location(key)) inputs.engine_options.emplace_back(key, tensorrt->values[i]);
    keys.push_back(key);
    values.push_back(tensorrt->values[i]);
  }
  std::string model;
  if (path) {
    if (const std::string why = plugin::read_whole_file(path, &model); !why.empty())
      return fail(XRT_ERROR_IO, error, capacity, "onnxruntime: cannot read the model '%s': %s",
                  path, why.c_str());
    data = model.data();
    size = model.size();
  }
  inputs.model = data;
  inputs.model_size = size;
  std::string tried;
  if (!tensorrt_version(&inputs.tensorrt_version, &tried))
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "onnxruntime: the TensorRT provider needs TensorRT's libnvinfer (tried %s); "
                "install TensorRT from NVIDIA's package index",
                tried.c_str());
  if (!gpu_identity(device_index, &inputs.gpu))
    return fail(XRT_ERROR_BACKEND, error, capacity,
                "onnxruntime: cannot identify GPU %d for the TensorRT engine cache "
                "(the CUDA driver libcuda.so.1 did not answer)",
                device_index);
  const std::string folder = (root.empty() ? plugin::cache_root() : root) + "/tensorrt/" +
                             engine_cache_key(inputs);
  const std::string unusable = plugin::prepare_cache_folder(folder);
  keys.push_back(kCacheEnable);
  values.push_back(unusable.empty() ? "1" : "0");
  if (unusable.empty()) {
    keys.push_back(kCachePath);
    values.push_back(folder);
  } else {
    plugin::warn("onnxruntime: TensorRT engines are built without the engine cache: %s",
                 unusable.c_str());
  }
  tensorrt->keys = std::move(keys);
  tensorrt->values = std::move(values);
  return XRT_OK;
}

}  // namespace xrt::ort
