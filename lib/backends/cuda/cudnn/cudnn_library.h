// Finds cuDNN 9 (and the shared CUDA runtime that cudnn-frontend resolves
// by name) when the first cuDNN kernel is considered, never at build time.
#ifndef XRT_CUDA_CUDNN_CUDNN_LIBRARY_H_
#define XRT_CUDA_CUDNN_CUDNN_LIBRARY_H_

#include <string>

namespace xrt::cuda {

// The dlopen handle of libcudnn.so.9, or nullptr with the places tried in
// *why. Looked up once per process.
void* cudnn_library(std::string* why);

}  // namespace xrt::cuda

#endif  // XRT_CUDA_CUDNN_CUDNN_LIBRARY_H_
