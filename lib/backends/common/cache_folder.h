// Folders where a backend's library caches compiled models (OpenVINO's
// blobs, TensorRT's engines). A cache only saves time, so a folder that
// cannot be used (a file in its place, no write access, a read-only disk)
// must not fail the session: the caller builds without it and warns.
#pragma once

#include <string>

namespace xrt::plugin {

// The root of every cache folder: $XRT_CACHE_DIR, else
// $XDG_CACHE_HOME/xpuruntime, else ~/.cache/xpuruntime. Read at each call,
// so a process may point it elsewhere between sessions.
std::string cache_root();

// Creates `path` and its missing parents, then checks that a file can be
// created in it. Returns "" when the folder is usable, else why it is not.
std::string prepare_cache_folder(const std::string& path);

// Writes "xpuruntime: warning: <message>" to stderr, where ONNX Runtime and
// OpenVINO report too: the runtime has no log of its own.
void warn(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace xrt::plugin
