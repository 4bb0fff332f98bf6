#include "cache_folder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace xrt::plugin {

std::string cache_root() {
  if (const char* dir = std::getenv("XRT_CACHE_DIR"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir)
    return std::string(dir) + "/xpuruntime";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/xpuruntime";
}

std::string prepare_cache_folder(const std::string& path) {
  if (path.empty()) return "no folder was named";
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    const std::string part = path.substr(0, at);
    // EEXIST also means a file of that name: stat below tells them apart.
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      return "cannot create '" + part + "': " + std::strerror(errno);
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "cannot read '" + path + "': " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "'" + path + "' is not a folder";
  // Permission bits do not tell (root ignores them, a mount may be
  // read-only), so try what the cache will do.
  std::string probe = path + "/.xrt-write-check-XXXXXX";
  const int fd = mkstemp(probe.data());
  if (fd < 0) return "cannot write in '" + path + "': " + std::strerror(errno);
  close(fd);
  unlink(probe.c_str());
  return "";
}

void warn(const char* format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  std::fprintf(stderr, "xpuruntime: warning: %s\n", message);
}

}  // namespace xrt::plugin
