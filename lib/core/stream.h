// Streams and events. On the CPU work completes before the call that
// submitted it returns, so a stream is an ordering token and an event is a
// timestamp taken when it is recorded.
#pragma once

#include <atomic>
#include <chrono>

#include "device.h"

struct xrt_stream {
  std::atomic<int64_t> refcount{1};
  xrt_device* device = nullptr;
};

struct xrt_event {
  std::atomic<int64_t> refcount{1};
  xrt_device* device = nullptr;
  std::atomic<bool> recorded{false};
  std::chrono::steady_clock::time_point time;
};
