// Model sessions: a backend's session plus the model's input/output
// descriptions, so every call is validated here (names, dtypes, ranks, fixed
// dimensions, devices) with one set of messages, whatever the backend.
#pragma once

#include <atomic>
#include <deque>
#include <string>
#include <vector>

#include "device.h"
#include "run_options.h"
#include "xpuruntime/xpuruntime_plugin.h"

struct xrt_session {
  std::atomic<int64_t> refcount{1};
  xrt_device* device = nullptr;
  const char* backend = nullptr;  // the runtime's backend name: lives forever
  const xrt_session_api_t* api = nullptr;
  xrt_plugin_session_t* impl = nullptr;
  std::vector<xrt_value_info_t> inputs;
  std::vector<xrt_value_info_t> outputs;
  std::deque<std::string> type_names;  // types the runtime named for older plugins
  std::atomic<bool> spans_taken{false};  // the backend's collect_spans runs at most once
  std::string selection;  // backend "auto": the candidates measured and the choice
};

namespace xrt {

struct Backend;

// `backend` NULL or "auto" chooses by measuring (auto_select.h).
xrt_session* session_create(const char* path, const void* data, size_t size, const char* backend,
                            xrt_device* device, const xrt_option_t* options, size_t num_options);
// The session on backend `b`, options as given.
xrt_session* session_create_on(const Backend& b, const char* path, const void* data, size_t size,
                               xrt_device* device, const xrt_option_t* options,
                               size_t num_options);
void session_release(xrt_session* session);
// Writes the backend's own spans (enable_profiling) to `path` as a Chrome
// trace now rather than into the profiler at release; throws when they were
// already taken or the backend keeps none.
void session_end_profiling(xrt_session* session, const char* path);
// The backend's answer for `key`; throws NotFound when it has none.
const char* session_property(const xrt_session* session, const char* key);
// Whether a run's non-NULL outputs[i] are tensors to write into
// (xrt_session_run_into) or just slots to fill.
enum class OutputsGiven { kNone, kSome };

// Fills outputs[0..num_outputs) with new tensors, or with `given` kSome
// writes into the non-NULL ones; nothing is left allocated when it throws.
// `options` may be NULL; with terminate set the run stops (BackendError).
void session_run(xrt_session* session, xrt_run_options* options, const char* const* input_names,
                 const xrt_tensor_t* const* inputs, size_t num_inputs,
                 const char* const* output_names, size_t num_outputs, xrt_tensor_t** outputs,
                 OutputsGiven given = OutputsGiven::kNone);

// session_run for values of every kind: outputs[i] receives a tree the
// caller drops with xrt_value_release; nothing is left allocated when it
// throws.
void session_run_values(xrt_session* session, xrt_run_options* options,
                        const char* const* input_names, const xrt_value_t* const* inputs,
                        size_t num_inputs, const char* const* output_names, size_t num_outputs,
                        xrt_value_t** outputs);

}  // namespace xrt
