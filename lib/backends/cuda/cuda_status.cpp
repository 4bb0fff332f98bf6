#include "cuda_status.h"

namespace xrt::cuda {

namespace {
thread_local std::string message;
}

xrt_status_t set_error(xrt_status_t status, std::string text) {
  message = std::move(text);
  return status;
}

const char* last_error() { return message.c_str(); }

xrt_status_t check(cudaError_t result, const char* what) {
  if (result == cudaSuccess) return XRT_OK;
  cudaGetLastError();  // clear the sticky-free error so later calls start clean
  const xrt_status_t status =
      result == cudaErrorMemoryAllocation ? XRT_ERROR_OUT_OF_MEMORY : XRT_ERROR_BACKEND;
  return set_error(status, std::string(what) + ": " + cudaGetErrorName(result) + " (" +
                               cudaGetErrorString(result) + ")");
}

}  // namespace xrt::cuda
