// The plugin's error channel: every device-table function that fails leaves
// a message for last_error() on the calling thread and returns a status.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "xpuruntime/xpuruntime.h"

namespace xrt::cuda {

// Stores the message; returns status so callers can `return set_error(...)`.
xrt_status_t set_error(xrt_status_t status, std::string message);
const char* last_error();

// XRT_OK, or the CUDA error as "what: cudaErrorX (text)" with a status that
// says out-of-memory where CUDA did.
xrt_status_t check(cudaError_t result, const char* what);

// Makes `device` current for a scope and restores the caller's device, so
// callers that keep their own current device (torch, CuPy) are undisturbed.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    cudaGetDevice(&previous_);
    if (previous_ != device) cudaSetDevice(device);
  }
  ~DeviceGuard() {
    int now = previous_;
    cudaGetDevice(&now);
    if (now != previous_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace xrt::cuda
