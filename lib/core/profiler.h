// Process-wide profiler: spans (name, category, thread, start, duration,
// args) recorded from any thread while running; Chrome-trace JSON export and
// a text summary. A span costs one relaxed atomic load when not profiling.
#pragma once

#include <atomic>
#include <mutex>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace xrt {

struct Span {
  std::string name;
  std::string category;
  int32_t thread;
  double start_us;  // since the profiler started
  double duration_us;
  std::vector<std::pair<std::string, std::string>> args;
};

class Profiler {
 public:
  static Profiler& get();
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  void start();  // throws when already running
  void stop();   // throws when not running
  void record(Span span);
  std::chrono::steady_clock::time_point origin() const { return origin_; }
  std::string chrome_trace_json();
  std::string summary();
  size_t event_count();

 private:
  std::atomic<bool> enabled_{false};
  std::chrono::steady_clock::time_point origin_;
  std::mutex mutex_;
  std::vector<Span> spans_;
};

// Chrome-trace JSON for `spans` (start_us counts from the trace's origin).
std::string chrome_trace_json(const std::vector<Span>& spans);

// Small, stable per-thread number for traces.
int32_t current_thread_number();

// Records one span from construction to destruction when profiling.
class ProfileSpan {
 public:
  ProfileSpan(const char* category, std::string name);
  ~ProfileSpan();
  bool active() const { return active_; }
  void arg(std::string key, std::string value);

 private:
  bool active_;
  Span span_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace xrt
