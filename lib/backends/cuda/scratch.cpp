#include "scratch.h"

#include "devices.h"

namespace xrt::cuda {

void* scratch_alloc(size_t nbytes, cudaStream_t stream) {
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return nullptr;
  void* ptr = nullptr;
  return allocator(device).allocate(nbytes, stream, &ptr) == XRT_OK ? ptr : nullptr;
}

void scratch_free(void* ptr, cudaStream_t) {
  int device = 0;
  if (ptr && cudaGetDevice(&device) == cudaSuccess) allocator(device).free(ptr);
}

}  // namespace xrt::cuda
