#include "log_severity.h"

#include <cstdlib>
#include <cstring>

namespace xrt::plugin {

int parse_log_severity(const char* text) {
  static constexpr const char* kNames[] = {"verbose", "info", "warning", "error", "fatal"};
  if (!text || !*text) return -1;
  for (int i = 0; i <= kLogFatal; ++i)
    if (std::strcmp(text, kNames[i]) == 0) return i;
  if (text[1] == '\0' && text[0] >= '0' && text[0] <= '4') return text[0] - '0';
  return -1;
}

int default_log_severity() {
  static const int severity = [] {
    const int level = parse_log_severity(std::getenv("XPURUNTIME_LOG_SEVERITY"));
    return level < 0 ? kLogWarning : level;
  }();
  return severity;
}

}  // namespace xrt::plugin
