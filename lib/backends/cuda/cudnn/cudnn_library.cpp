#include "cudnn_library.h"

#include <dlfcn.h>

#include <vector>

#include "runtime_library.h"

// cudnn-frontend looks every cuDNN function up in this handle; it is set
// once, before any cuDNN call.
namespace cudnn_frontend {
void* cudnn_dlhandle = nullptr;
}  // namespace cudnn_frontend

namespace xrt::cuda {
namespace {

struct Loaded {
  void* handle = nullptr;
  std::string reason;
};

// Opens the first candidate that loads; appends what failed to attempts.
void* open_first(const plugin::LibrarySearch& search, std::vector<std::string>& attempts) {
  for (const std::string& path : plugin::library_candidates(search)) {
    if (void* handle = plugin::open_library(path, attempts)) return handle;
  }
  return nullptr;
}

Loaded load() {
  Loaded lib;
  std::vector<std::string> attempts;
  // The plugin links the CUDA runtime statically, but cudnn-frontend opens
  // libcudart.so.13 by name; loading it by full path first lets that name
  // resolve to the wheel's copy when the system has none.
  const plugin::LibrarySearch cudart{"XRT_CUDART_LIB", "nvidia/cu13/lib", "libcudart.so.13",
                                     {"libcudart.so.13"}};
  if (!open_first(cudart, attempts)) {
    lib.reason = "the shared CUDA 13 runtime was not found (pip install \"xpuruntime[cuda]\", "
                 "or set XRT_CUDART_LIB); tried: " + plugin::join_attempts(attempts);
    return lib;
  }
  attempts.clear();
  const plugin::LibrarySearch cudnn{"XRT_CUDNN_LIB", "nvidia/cudnn/lib", "libcudnn.so.9",
                                    {"libcudnn.so.9"}};
  lib.handle = open_first(cudnn, attempts);  // kept open for the life of the process
  if (!lib.handle) {
    lib.reason = "cuDNN 9 was not found (pip install \"xpuruntime[cuda]\", or set XRT_CUDNN_LIB); "
                 "tried: " + plugin::join_attempts(attempts);
  }
  return lib;
}

}  // namespace

void* cudnn_library(std::string* why) {
  static const Loaded lib = [] {
    Loaded loaded = load();
    cudnn_frontend::cudnn_dlhandle = loaded.handle;
    return loaded;
  }();
  if (!lib.handle && why) *why = lib.reason;
  return lib.handle;
}

}  // namespace xrt::cuda
