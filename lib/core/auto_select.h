// backend "auto": the backend that runs a model best on a device, found by
// running every candidate that can serve it on the model's inputs for a
// bounded time and choosing by a policy. The choice is cached beside the
// engine caches under a key of everything that could change it, so the
// second session of a model creates only the winner.
#pragma once

#include <cstddef>

#include "device.h"
#include "xpuruntime/xpuruntime.h"

struct xrt_session;

namespace xrt {

// The session option naming the policy; consumed here, never passed to a
// backend.
constexpr const char* kAutoPolicyOption = "policy";

// Creates the session for backend NULL or "auto". Policies: "latency"
// (default: lowest median run time), "throughput" (most runs a second from
// one thread per core), "prefer_npu" (an NPU when one serves the model,
// else latency), "first" (the first backend that runs models, unmeasured).
// The session's "selection" property reports the candidates and times.
xrt_session* auto_session_create(const char* path, const void* data, size_t size,
                                 xrt_device* device, const xrt_option_t* options,
                                 size_t num_options);

}  // namespace xrt
