// How a session plugin finds the third-party runtime it drives (ONNX
// Runtime, OpenVINO): an environment variable naming the file, the pip
// wheel installed beside xpuruntime, then the system's loader path. Every
// failed attempt is kept, so "unavailable" can say where it looked.
#pragma once

#include <string>
#include <vector>

namespace xrt::plugin {

struct LibrarySearch {
  const char* env_var;        // full path to the library, e.g. XRT_ONNXRUNTIME_LIB
  const char* wheel_folder;   // under site-packages, e.g. "onnxruntime/capi"
  const char* prefix;         // e.g. "libonnxruntime.so.1"
  std::vector<const char*> system_names;
};

// Files in dir whose names start with prefix (wheels ship only versioned
// names such as libonnxruntime.so.1.32.0), newest first; when there are
// none, dir/prefix* so the attempt list shows where it looked.
std::vector<std::string> versioned_files(const std::string& dir, const std::string& prefix);

// Where to try, in order: the env var, the wheel's folder found relative to
// this plugin file (installed in site-packages/xpuruntime/lib/plugins/),
// then the system names.
std::vector<std::string> library_candidates(const LibrarySearch& search);

// dlopen(RTLD_NOW | RTLD_LOCAL), or nullptr with the reason appended to
// attempts (a dir/prefix* placeholder is recorded as missing).
void* open_library(const std::string& path, std::vector<std::string>& attempts);

// "a; b; c".
std::string join_attempts(const std::vector<std::string>& attempts);

}  // namespace xrt::plugin
