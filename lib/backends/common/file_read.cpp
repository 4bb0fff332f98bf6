#include "file_read.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace xrt::plugin {

std::string read_whole_file(const char* path, std::string* bytes) {
  bytes->clear();
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path, "rb"), &std::fclose);
  if (!file) return std::strerror(errno);
  struct stat info {};
  if (fstat(fileno(file.get()), &info) != 0) return std::strerror(errno);
  if (S_ISDIR(info.st_mode)) return "it is a directory";
  if (!S_ISREG(info.st_mode)) return "it is not a regular file";
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) bytes->append(buffer, got);
  if (std::ferror(file.get())) {
    const int reason = errno;
    bytes->clear();
    return std::strerror(reason);
  }
  return "";
}

}  // namespace xrt::plugin
