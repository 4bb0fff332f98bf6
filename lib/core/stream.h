// Streams and events wrap the native handles of their device's table
// (host_device.cpp for the CPU: no native stream, an event is a timestamp).
// A NULL native stream is the device's default stream.
#pragma once

#include <atomic>

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
  ~xrt_event() {
    if (native) device->api->event_destroy(device->index, native);
  }
};

namespace xrt {
// The native handle work on `stream` goes to (NULL: default stream).
inline void* native_stream(const xrt_stream* stream) { return stream ? stream->native : nullptr; }

xrt_stream* stream_create(xrt_device* device);
// Wraps a native stream the caller owns.
xrt_stream* stream_wrap(xrt_device* device, void* native);
void stream_release(xrt_stream* stream);
void stream_synchronize(xrt_stream* stream);
void device_synchronize(xrt_device* device);
void stream_wait_event(xrt_stream* stream, xrt_event* event);

xrt_event* event_create(xrt_device* device);
void event_release(xrt_event* event);
// `stream` NULL: the event's device's default stream.
void event_record(xrt_event* event, xrt_stream* stream);
void event_synchronize(xrt_event* event);
// 1 when the work before the recorded point has finished (or it was never
// recorded).
int32_t event_query(xrt_event* event);
float event_elapsed_ms(xrt_event* start, xrt_event* end);
}  // namespace xrt
