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

template <typename... Parts>
void require(bool condition, const Parts&... parts) {
  if (!condition) fail(XRT_ERROR_INVALID_ARGUMENT, parts...);
}

// Formats a shape as "(2, 3, 4)".
std::string shape_string(int32_t ndim, const int64_t* shape);

}  // namespace xrt
