#include "run_options.h"

#include <algorithm>

namespace xrt {

void run_options_release(xrt_run_options* options) {
  if (options && options->refcount.fetch_sub(1, std::memory_order_acq_rel) == 1) delete options;
}

void run_options_set_terminate(xrt_run_options* options, bool terminate) {
  std::lock_guard<std::mutex> lock(options->mutex);
  options->terminate = terminate;
  if (!terminate) return;
  for (const auto& w : options->watchers) w.on_stop(w.stop_context);
}

bool run_options_terminated(xrt_run_options* options) {
  std::lock_guard<std::mutex> lock(options->mutex);
  return options->terminate;
}

RunStop::RunStop(xrt_run_options* options)
    : options_(options), stop_{sizeof(xrt_run_stop_t), this, watch, unwatch} {
  options_->refcount.fetch_add(1, std::memory_order_relaxed);
}

RunStop::~RunStop() {
  unwatch(this);  // a backend that forgot to let go
  run_options_release(options_);
}

void RunStop::watch(void* context, void (*on_stop)(void*), void* stop_context) {
  auto* self = static_cast<RunStop*>(context);
  if (!on_stop) return;
  std::lock_guard<std::mutex> lock(self->options_->mutex);
  // Out of memory, the run is simply not stoppable early: the runtime still
  // reports the stop once it ends. No exception crosses back to the plugin.
  try {
    self->options_->watchers.push_back({self, on_stop, stop_context});
  } catch (...) {
    return;
  }
  if (self->options_->terminate) on_stop(stop_context);
}

void RunStop::unwatch(void* context) {
  auto* self = static_cast<RunStop*>(context);
  std::lock_guard<std::mutex> lock(self->options_->mutex);
  auto& all = self->options_->watchers;
  all.erase(std::remove_if(all.begin(), all.end(),
                           [self](const xrt_run_options::Watcher& w) { return w.run == self; }),
            all.end());
}

}  // namespace xrt
