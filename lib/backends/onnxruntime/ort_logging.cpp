#include "ort_logging.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_set>

namespace xrt::ort {
namespace {

constexpr char kLetters[] = {'V', 'I', 'W', 'E', 'F'};
// ANSI colours ORT's own console logger uses for warning and above.
constexpr const char* kColours[] = {"", "", "\x1b[1;33m", "\x1b[1;31m", "\x1b[1;37;41m"};

}  // namespace

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
