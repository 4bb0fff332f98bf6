#include "openblas.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>

namespace xrt::cpu {
namespace {

struct Loaded {
  Openblas fn{};
  bool ok = false;
  std::string reason;
};

// scipy-openblas prefixes its symbols with scipy_; an OpenBLAS that
// XRT_OPENBLAS_LIB names from elsewhere (a distribution's) does not.
void* symbol(void* handle, const char* name) {
  for (const char* prefix : {"scipy_", ""}) {
    if (void* found = dlsym(handle, (std::string(prefix) + name).c_str())) return found;
  }
  return nullptr;
}

Loaded load() {
  Loaded lib;
  // An explicit setting is the only one tried: falling back would hide
  // that the library it names is not the one running.
  const char* env = std::getenv("XRT_OPENBLAS_LIB");
  const std::string path = env && *env ? env : "libscipy_openblas.so";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error = dlerror();
    lib.reason = "OpenBLAS was not found (pip install scipy-openblas32, a dependency of "
                 "xpuruntime, or set XRT_OPENBLAS_LIB to an OpenBLAS library): " +
                 (error ? std::string(error) : path + ": cannot be opened");
    return lib;
  }
  lib.fn.sgemm = reinterpret_cast<decltype(lib.fn.sgemm)>(symbol(handle, "cblas_sgemm"));
  lib.fn.dgemm = reinterpret_cast<decltype(lib.fn.dgemm)>(symbol(handle, "cblas_dgemm"));
  if (!lib.fn.sgemm || !lib.fn.dgemm) {
    lib.reason = path + " is not OpenBLAS: it has no cblas_sgemm and cblas_dgemm (pip install "
                 "scipy-openblas32, or set XRT_OPENBLAS_LIB to an OpenBLAS library)";
    dlclose(handle);
    return lib;
  }
  lib.ok = true;  // kept open for the life of the process
  return lib;
}

}  // namespace

const Openblas* openblas(const char** why) {
  static const Loaded lib = load();
  if (lib.ok) return &lib.fn;
  if (why) *why = lib.reason.c_str();
  return nullptr;
}

}  // namespace xrt::cpu
