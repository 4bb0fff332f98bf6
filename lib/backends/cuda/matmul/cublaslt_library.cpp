#include "cublaslt_library.h"

#include <dlfcn.h>

#include <vector>

#include "runtime_library.h"

namespace xrt::cuda {
namespace {

struct Loaded {
  CublasLt fn{};
  bool ok = false;
  std::string reason;
};

// Fills slot from the library; records the gap in attempts when missing.
template <typename Fn>
bool bind(void* handle, const std::string& path, const char* name, Fn& slot,
          std::vector<std::string>& attempts) {
  slot = reinterpret_cast<Fn>(dlsym(handle, name));
  if (!slot) attempts.push_back(path + ": has no " + name);
  return slot != nullptr;
}

bool bind_all(void* h, const std::string& path, CublasLt& f, std::vector<std::string>& attempts) {
  return bind(h, path, "cublasLtCreate", f.create, attempts) &&
         bind(h, path, "cublasLtGetStatusName", f.status_name, attempts) &&
         bind(h, path, "cublasLtMatmulDescCreate", f.desc_create, attempts) &&
         bind(h, path, "cublasLtMatmulDescDestroy", f.desc_destroy, attempts) &&
         bind(h, path, "cublasLtMatmulDescSetAttribute", f.desc_set, attempts) &&
         bind(h, path, "cublasLtMatrixLayoutCreate", f.layout_create, attempts) &&
         bind(h, path, "cublasLtMatrixLayoutDestroy", f.layout_destroy, attempts) &&
         bind(h, path, "cublasLtMatrixLayoutSetAttribute", f.layout_set, attempts) &&
         bind(h, path, "cublasLtMatmulPreferenceCreate", f.pref_create, attempts) &&
         bind(h, path, "cublasLtMatmulPreferenceDestroy", f.pref_destroy, attempts) &&
         bind(h, path, "cublasLtMatmulPreferenceSetAttribute", f.pref_set, attempts) &&
         bind(h, path, "cublasLtMatmulAlgoGetHeuristic", f.heuristic, attempts) &&
         bind(h, path, "cublasLtMatmul", f.matmul, attempts);
}

Loaded load() {
  Loaded lib;
  const plugin::LibrarySearch search{"XRT_CUBLASLT_LIB", "nvidia/cu13/lib", "libcublasLt.so.13",
                                     {"libcublasLt.so.13"}};
  std::vector<std::string> attempts;
  for (const std::string& path : plugin::library_candidates(search)) {
    void* handle = plugin::open_library(path, attempts);
    if (!handle) continue;
    if (bind_all(handle, path, lib.fn, attempts)) {
      lib.ok = true;  // kept open for the life of the process
      return lib;
    }
    dlclose(handle);
  }
  lib.reason = "cuBLASLt 13 was not found (pip install \"xpuruntime[cuda]\", or set "
               "XRT_CUBLASLT_LIB); tried: " + plugin::join_attempts(attempts);
  return lib;
}

}  // namespace

const CublasLt* cublaslt(std::string* why) {
  static const Loaded lib = load();
  if (lib.ok) return &lib.fn;
  if (why) *why = lib.reason;
  return nullptr;
}

}  // namespace xrt::cuda
