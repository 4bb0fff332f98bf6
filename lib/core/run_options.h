// Run options: the terminate switch of xrt_session_run_with_options. Runs in
// progress whose backend can stop register a callback; setting terminate
// calls each one, under the lock that unwatching takes, so no callback
// comes after a run has let go.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "xpuruntime/xpuruntime_plugin.h"

struct xrt_run_options {
  struct Watcher {
    const void* run;  // the run's xrt_run_stop_t context
    void (*on_stop)(void*);
    void* stop_context;
  };
  std::atomic<int64_t> refcount{1};  // the caller's, plus one per run using the options
  std::mutex mutex;
  bool terminate = false;
  std::vector<Watcher> watchers;
};

namespace xrt {

void run_options_release(xrt_run_options* options);
void run_options_set_terminate(xrt_run_options* options, bool terminate);
bool run_options_terminated(xrt_run_options* options);

// One run's view of its options, handed to a backend as xrt_run_stop_t.
class RunStop {
 public:
  explicit RunStop(xrt_run_options* options);
  ~RunStop();
  RunStop(const RunStop&) = delete;
  RunStop& operator=(const RunStop&) = delete;
  const xrt_run_stop_t* get() const { return &stop_; }

 private:
  static void watch(void* context, void (*on_stop)(void*), void* stop_context);
  static void unwatch(void* context);
  xrt_run_options* options_;
  xrt_run_stop_t stop_;
};

}  // namespace xrt
