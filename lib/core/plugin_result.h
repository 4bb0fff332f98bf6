// What a plugin hands back after a call, read defensively: its status may be
// any integer and its message buffer may lack a terminating NUL.
#pragma once

#include <cstddef>
#include <string>

#include "enum_code.h"
#include "xpuruntime/xpuruntime.h"

namespace xrt {

// The plugin's status as an xrt_status_t; a code outside the enum is the
// backend's failure (XRT_ERROR_BACKEND), never passed on to callers.
inline xrt_status_t plugin_status(xrt_status_t returned) {
  const int32_t code = enum_code(returned);
  return code >= XRT_OK && code <= XRT_ERROR_INTERNAL ? static_cast<xrt_status_t>(code)
                                                       : XRT_ERROR_BACKEND;
}

// The message a plugin left in `buffer` (capacity bytes), cut at the end of
// the buffer; `fallback` when it left none. A status the enum does not name
// is added to the message, so the original code is not lost.
inline std::string plugin_message(char* buffer, size_t capacity, xrt_status_t returned,
                                  const char* fallback) {
  if (capacity) buffer[capacity - 1] = '\0';
  std::string message = buffer[0] ? buffer : fallback;
  if (plugin_status(returned) == XRT_ERROR_BACKEND && enum_code(returned) != XRT_ERROR_BACKEND)
    message += " (the plugin returned status code " + std::to_string(enum_code(returned)) +
               ", which is not an xrt_status_t)";
  return message;
}

}  // namespace xrt
