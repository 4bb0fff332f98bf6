#include "devices.h"

#include <dlfcn.h>

#include <memory>
#include <string>
#include <vector>

#include "cuda_status.h"

namespace xrt::cuda {

namespace {

struct Devices {
  std::string reason;  // empty when usable
  std::vector<std::unique_ptr<DeviceAllocator>> allocators;
};

// Why the CUDA runtime found no device, in words that say what to fix. A
// machine without the NVIDIA driver (no libcuda.so.1) makes cudart report an
// "insufficient driver", which would send the user to upgrade a driver they
// do not have.
std::string unavailable_because(cudaError_t result) {
  if (result == cudaErrorNoDevice)
    return "no NVIDIA driver or GPU found (no CUDA GPU is present)";
  if (result == cudaErrorInsufficientDriver) {
    void* libcuda = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (libcuda == nullptr)
      return "no NVIDIA driver or GPU found (the driver's libcuda.so.1 could not be loaded)";
    dlclose(libcuda);
    int driver = 0;
    cudaDriverGetVersion(&driver);
    const auto version = [](int v) {
      return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
    };
    return "the NVIDIA driver supports CUDA " + version(driver) + ", older than the CUDA " +
           version(CUDART_VERSION) + " runtime this plugin was built with; update the driver";
  }
  return std::string("no usable CUDA driver or GPU: ") + cudaGetErrorName(result) + " (" +
         cudaGetErrorString(result) + ")";
}

Devices& devices() {
  static Devices* state = [] {
    auto* d = new Devices();  // outlives static teardown, as tensors may
    int count = 0;
    const cudaError_t result = cudaGetDeviceCount(&count);
    if (result != cudaSuccess) {
      cudaGetLastError();
      d->reason = unavailable_because(result);
    } else if (count == 0) {
      d->reason = unavailable_because(cudaErrorNoDevice);
    }
    for (int i = 0; i < count && d->reason.empty(); ++i)
      d->allocators.push_back(std::make_unique<DeviceAllocator>(i));
    return d;
  }();
  return *state;
}

}  // namespace

int device_count() { return static_cast<int>(devices().allocators.size()); }

const char* unavailable_reason() {
  const std::string& reason = devices().reason;
  return reason.empty() ? nullptr : reason.c_str();
}

DeviceAllocator& allocator(int device) { return *devices().allocators[static_cast<size_t>(device)]; }

xrt_status_t check_device(int device) {
  if (device >= 0 && device < device_count()) return XRT_OK;
  return set_error(XRT_ERROR_INVALID_ARGUMENT, "cuda device " + std::to_string(device) +
                                                   " does not exist (" +
                                                   std::to_string(device_count()) + " devices)");
}

}  // namespace xrt::cuda
