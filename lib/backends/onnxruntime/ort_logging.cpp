#include "ort_logging.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_set>

namespace xrt::ort {
namespace {

constexpr const char* kNames[] = {"verbose", "info", "warning", "error", "fatal"};
constexpr char kLetters[] = {'V', 'I', 'W', 'E', 'F'};
// ANSI colours ORT's own console logger uses for warning and above.
constexpr const char* kColours[] = {"", "", "\x1b[1;33m", "\x1b[1;31m", "\x1b[1;37;41m"};

int parse_severity(const char* text) {
  if (!text || !*text) return -1;
  for (int i = 0; i <= kLogFatal; ++i) {
    if (std::strcmp(text, kNames[i]) == 0) return i;
  }
  if (text[1] == '\0' && text[0] >= '0' && text[0] <= '4') return text[0] - '0';
  return -1;
}

}  // namespace

int default_log_severity() {
  static const int severity = [] {
    const int level = parse_severity(std::getenv("XPURUNTIME_LOG_SEVERITY"));
    return level < 0 ? static_cast<int>(kLogWarning) : level;
  }();
  return severity;
}

void write_log(void*, int severity, const char*, const char* log_id, const char*,
               const char* message) {
  if (severity < kLogVerbose || severity > kLogFatal || !message) return;
  if (severity >= kLogWarning) {
    static std::mutex mutex;
    static std::unordered_set<std::string> seen;
    std::lock_guard<std::mutex> lock(mutex);
    if (!seen.insert(message).second) return;
  }
  static const bool terminal = isatty(STDERR_FILENO) == 1;
  const char* colour = terminal ? kColours[severity] : "";
  std::fprintf(stderr, "%sonnxruntime [%c] %s%s%s%s\n", colour, kLetters[severity],
               log_id && *log_id ? log_id : "", log_id && *log_id ? ": " : "", message,
               *colour ? "\x1b[0m" : "");
}

}  // namespace xrt::ort
