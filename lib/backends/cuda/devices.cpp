#include "devices.h"

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

Devices& devices() {
  static Devices* state = [] {
    auto* d = new Devices();  // outlives static teardown, as tensors may
    int count = 0;
    const cudaError_t result = cudaGetDeviceCount(&count);
    if (result != cudaSuccess) {
      cudaGetLastError();
      d->reason = std::string("no usable CUDA driver or GPU: ") + cudaGetErrorName(result) +
                  " (" + cudaGetErrorString(result) + ")";
    } else if (count == 0) {
      d->reason = "no CUDA GPU is present";
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
