#include "file_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "error.h"

namespace xrt {

namespace {

[[noreturn]] void fail_io(const std::string& path, const char* action, int error) {
  fail(XRT_ERROR_IO, "cannot write '", path, "': ", action, " failed: ", std::strerror(error));
}

bool write_all(int fd, const std::string& contents) {
  const char* data = contents.data();
  size_t left = contents.size();
  while (left) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

// A new file beside `path` that no one else has (O_EXCL), with the usual
// permissions (0666 less the umask, unlike mkstemp's 0600).
int create_temporary(const std::string& path, std::string& temp) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = path + ".partial-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& contents) {
  XRT_REQUIRE(!path.empty(), "the output path is empty");
  std::string temp;
  const int fd = create_temporary(path, temp);
  if (fd < 0) fail_io(path, "creating a temporary file beside it", errno);
  const bool written = write_all(fd, contents);
  const int write_error = errno;
  if (::close(fd) != 0 || !written) {
    const int error = written ? errno : write_error;
    std::remove(temp.c_str());
    fail_io(path, "writing", error);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temp.c_str());
    fail_io(path, "renaming the temporary file onto it", error);
  }
}

}  // namespace xrt
