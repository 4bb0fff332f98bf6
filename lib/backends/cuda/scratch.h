// Stream-ordered scratch memory for kernels that need temporary buffers.
#ifndef XRT_CUDA_SCRATCH_H_
#define XRT_CUDA_SCRATCH_H_

#include <cuda_runtime.h>

#include <cstddef>

namespace xrt::cuda {

// Returns nullptr when the device is out of memory.
void* scratch_alloc(size_t nbytes, cudaStream_t stream);
void scratch_free(void* ptr, cudaStream_t stream);

}  // namespace xrt::cuda

#endif  // XRT_CUDA_SCRATCH_H_
