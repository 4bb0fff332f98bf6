#include "stream.h"

#include <memory>

#include "error.h"

namespace xrt {

xrt_stream* stream_create(xrt_device* device) {
  void* native = nullptr;
  check_device_call(device, device->api->stream_create(device->index, &native),
                    "creating a stream");
  auto* stream = new xrt_stream();
  stream->device = device;
  stream->native = native;
  stream->owned = true;
  return stream;
}

xrt_stream* stream_wrap(xrt_device* device, void* native) {
  XRT_REQUIRE(!device->host_memory || native == nullptr, device->name,
              " has no native streams to wrap (its work completes when each call returns)");
  auto* stream = new xrt_stream();
  stream->device = device;
  stream->native = native;
  return stream;
}

void stream_release(xrt_stream* stream) {
  if (stream && stream->refcount.fetch_sub(1, std::memory_order_acq_rel) == 1) delete stream;
}

void stream_synchronize(xrt_stream* stream) {
  xrt_device* d = stream->device;
  check_device_call(d, d->api->stream_synchronize(d->index, stream->native),
                    "synchronizing a stream");
}

void device_synchronize(xrt_device* device) {
  check_device_call(device, device->api->stream_synchronize(device->index, nullptr),
                    "synchronizing the default stream");
}

void stream_wait_event(xrt_stream* stream, xrt_event* event) {
  // One backend's devices can wait on each other (a cuda:1 stream on a
  // cuda:0 event); across backends there is no shared notion of an event.
  XRT_REQUIRE(stream->device->api == event->device->api, "the stream belongs to ",
              stream->device->name, ", the event to ", event->device->name, " (another backend)");
  XRT_REQUIRE(event->recorded.load(std::memory_order_acquire), "the event was never recorded");
  xrt_device* d = stream->device;
  check_device_call(d, d->api->stream_wait_event(d->index, stream->native, event->native),
                    "waiting for an event");
}

xrt_event* event_create(xrt_device* device) {
  void* native = nullptr;
  check_device_call(device, device->api->event_create(device->index, &native),
                    "creating an event");
  auto* event = new xrt_event();
  event->device = device;
  event->native = native;
  return event;
}

void event_release(xrt_event* event) {
  if (event && event->refcount.fetch_sub(1, std::memory_order_acq_rel) == 1) delete event;
}

void event_record(xrt_event* event, xrt_stream* stream) {
  XRT_REQUIRE(!stream || stream->device == event->device, "the event belongs to ",
              event->device->name, ", the stream to ", stream ? stream->device->name : "");
  xrt_device* d = event->device;
  check_device_call(d, d->api->event_record(d->index, event->native, native_stream(stream)),
                    "recording an event");
  event->recorded.store(true, std::memory_order_release);
}

void event_synchronize(xrt_event* event) {
  if (!event->recorded.load(std::memory_order_acquire)) return;  // nothing to wait for
  xrt_device* d = event->device;
  check_device_call(d, d->api->event_synchronize(d->index, event->native),
                    "waiting for an event");
}

int32_t event_query(xrt_event* event) {
  int32_t done = 1;
  if (!event->recorded.load(std::memory_order_acquire)) return done;
  xrt_device* d = event->device;
  check_device_call(d, d->api->event_query(d->index, event->native, &done), "querying an event");
  return done;
}

float event_elapsed_ms(xrt_event* start, xrt_event* end) {
  XRT_REQUIRE(start->recorded.load(std::memory_order_acquire),
              "the start event was never recorded");
  XRT_REQUIRE(end->recorded.load(std::memory_order_acquire), "the end event was never recorded");
  XRT_REQUIRE(start->device == end->device, "events belong to different devices: ",
              start->device->name, " and ", end->device->name);
  xrt_device* d = start->device;
  float ms = 0.0f;
  check_device_call(d, d->api->event_elapsed_ms(d->index, start->native, end->native, &ms),
                    "timing events");
  return ms;
}

}  // namespace xrt
