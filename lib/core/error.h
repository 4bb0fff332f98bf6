// Internal error type: every failure inside the library is an xrt::Error
// carrying the public status code; c_api.cpp turns it into a status plus the
// thread-local message.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "xpuruntime/xpuruntime.h"

namespace xrt {

class Error : public std::runtime_error {
 public:
  Error(xrt_status_t status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  xrt_status_t status() const { return status_; }

 private:
  xrt_status_t status_;
};

// Concatenates anything streamable: cat("shape[", i, "] = ", v).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(xrt_status_t status, const Parts&... parts) {
  throw Error(status, cat(parts...));
}


// Formats a shape as "(2, 3, 4)".
std::string shape_string(int32_t ndim, const int64_t* shape);

}  // namespace xrt

// Fails with XRT_ERROR_INVALID_ARGUMENT when `condition` is false. A macro,
// so the message's parts (shape strings, names) are built only on failure:
// the checks sit on hot paths that must not pay for text they never show.
#define XRT_REQUIRE(condition, ...)                                        \
  do {                                                                     \
    if (!(condition)) ::xrt::fail(XRT_ERROR_INVALID_ARGUMENT, __VA_ARGS__); \
  } while (0)
