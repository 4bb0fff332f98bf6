// Streams and events. On the CPU work completes before the call that
// submitted it returns, so a stream is an ordering token and an event is a
// timestamp taken when it is recorded. On a plugin device both wrap the
// plugin's native handles (NULL native stream: the default stream).
#pragma once

#include <atomic>
#include <chrono>

#include "device.h"

struct xrt_stream {
  std::atomic<int64_t> refcount{1};
  xrt_device* device = nullptr;
  void* native = nullptr;
  bool owned = false;  // false for wrapped foreign streams
  ~xrt_stream() {
    if (owned && native) device->api->stream_destroy(device->index, native);
  }
};

struct xrt_event {
  std::atomic<int64_t> refcount{1};
  xrt_device* device = nullptr;
  void* native = nullptr;
  std::atomic<bool> recorded{false};
  std::chrono::steady_clock::time_point time;
  ~xrt_event() {
    if (native) device->api->event_destroy(device->index, native);
  }
};

namespace xrt {
// The native handle work on `stream` goes to (NULL: default stream).
inline void* native_stream(const xrt_stream* stream) { return stream ? stream->native : nullptr; }
}  // namespace xrt
