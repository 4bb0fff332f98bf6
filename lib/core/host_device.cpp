// The host's device table. The CPU is one more device behind an
// xrt_device_api_t, so streams, events, memory and copies have one path for
// every device; plugin devices that work on host memory share it.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "device.h"
#include "dtype.h"
#include "error.h"
#include "memory_pool.h"

namespace {
// 64-byte alignment keeps every host tensor on its own cache lines and
// satisfies AVX-512 loads.
constexpr size_t kHostAlignment = 64;
}  // namespace

namespace xrt {

// One pool for all host memory, whichever host-memory device asked.
MemoryPool& host_pool() {
  static MemoryPool* pool = [] {
    struct HostAllocator : RawAllocator {
      void* alloc(size_t nbytes) override {
        return std::aligned_alloc(kHostAlignment, (nbytes + kHostAlignment - 1) / kHostAlignment *
                                                      kHostAlignment);
      }
      void free(void* ptr, size_t) override { std::free(ptr); }
    };
    return new MemoryPool(new HostAllocator(), "cpu");  // outlives static teardown
  }();
  return *pool;
}

namespace {

thread_local std::string host_error;

const char* last_error() { return host_error.c_str(); }

// The table is C: a failure becomes a status and a message for last_error.
template <typename Body>
xrt_status_t served(Body&& body) noexcept {
  try {
    body();
    return XRT_OK;
  } catch (const Error& e) {
    host_error = e.what();
    return e.status();
  } catch (const std::bad_alloc&) {
    host_error = "out of host memory";
    return XRT_ERROR_OUT_OF_MEMORY;
  } catch (...) {
    host_error = "unknown internal error";
    return XRT_ERROR_INTERNAL;
  }
}

int32_t device_count() { return 1; }

std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "host CPU";
}

xrt_status_t device_props(int32_t, xrt_plugin_device_props_t* props) {
  const std::string model = cpu_model_name();
  std::strncpy(props->name, model.c_str(), sizeof props->name - 1);
  props->name[sizeof props->name - 1] = '\0';
  props->total_memory =
      static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  props->compute_units = static_cast<int32_t>(std::thread::hardware_concurrency());
  props->compute_capability = 0;
  return XRT_OK;
}

xrt_status_t alloc(int32_t, size_t nbytes, void*, void** out) {
  return served([&] { *out = host_pool().allocate(nbytes)->ptr; });
}

xrt_status_t free_memory(int32_t, void* ptr) {
  return served([&] { host_pool().release_pointer(ptr); });
}

xrt_status_t memory_stats(int32_t, xrt_memory_stats_t* stats) {
  return served([&] { *stats = host_pool().stats(); });
}

xrt_status_t empty_cache(int32_t) {
  return served([] { host_pool().empty_cache(); });
}

xrt_status_t reset_peak(int32_t) {
  return served([] { host_pool().reset_peak(); });
}

// Work on the host is complete when its call returns: a stream is an
// ordering token with no native handle, nothing ever waits.
xrt_status_t stream_create(int32_t, void** out) {
  *out = nullptr;
  return XRT_OK;
}
void stream_destroy(int32_t, void*) {}
xrt_status_t stream_synchronize(int32_t, void*) { return XRT_OK; }
xrt_status_t stream_wait_event(int32_t, void*, void*) { return XRT_OK; }

// An event is the time it was recorded.
using Clock = std::chrono::steady_clock;

xrt_status_t event_create(int32_t, void** out) {
  return served([&] { *out = new Clock::time_point(); });
}
void event_destroy(int32_t, void* event) { delete static_cast<Clock::time_point*>(event); }
xrt_status_t event_record(int32_t, void* event, void*) {
  *static_cast<Clock::time_point*>(event) = Clock::now();
  return XRT_OK;
}
xrt_status_t event_synchronize(int32_t, void*) { return XRT_OK; }
xrt_status_t event_query(int32_t, void*, int32_t* done) {
  *done = 1;
  return XRT_OK;
}
xrt_status_t event_elapsed_ms(int32_t, void* start, void* end, float* ms) {
  *ms = std::chrono::duration<float, std::milli>(*static_cast<Clock::time_point*>(end) -
                                                 *static_cast<Clock::time_point*>(start))
            .count();
  return XRT_OK;
}

xrt_status_t copy(int32_t, void*, void* dst, int32_t, const void* src, int32_t, size_t nbytes) {
  std::memcpy(dst, src, nbytes);
  return XRT_OK;
}

bool contiguous(const xrt_kernel_tensor_t* t) {
  int64_t expected = 1;
  for (int32_t i = t->ndim - 1; i >= 0; --i) {
    if (t->shape[i] != 1 && t->strides[i] != expected) return false;
    expected *= t->shape[i];
  }
  return true;
}

// Copies element by element along the innermost axis, walking the others
// with an index counter; contiguous pairs take one memcpy.
xrt_status_t copy_strided(int32_t, void*, const xrt_kernel_tensor_t* dst,
                          const xrt_kernel_tensor_t* src) {
  const size_t item = dtype_size(src->dtype);
  const int32_t ndim = src->ndim;
  int64_t numel = 1;
  for (int32_t i = 0; i < ndim; ++i) numel *= src->shape[i];
  if (numel == 0) return XRT_OK;
  if (contiguous(dst) && contiguous(src)) {
    std::memcpy(dst->data, src->data, static_cast<size_t>(numel) * item);
    return XRT_OK;
  }
  const int64_t inner = ndim ? src->shape[ndim - 1] : 1;
  const int64_t ds = ndim ? dst->strides[ndim - 1] : 1;
  const int64_t ss = ndim ? src->strides[ndim - 1] : 1;
  int64_t index[XRT_MAX_DIMS] = {};
  const int64_t rows = numel / inner;
  auto* d0 = static_cast<char*>(dst->data);
  auto* s0 = static_cast<const char*>(src->data);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t doff = 0, soff = 0;
    for (int32_t i = 0; i + 1 < ndim; ++i) {
      doff += index[i] * dst->strides[i];
      soff += index[i] * src->strides[i];
    }
    char* d = d0 + doff * static_cast<int64_t>(item);
    const char* s = s0 + soff * static_cast<int64_t>(item);
    if (ds == 1 && ss == 1) {
      std::memcpy(d, s, static_cast<size_t>(inner) * item);
    } else {
      for (int64_t j = 0; j < inner; ++j)
        std::memcpy(d + j * ds * static_cast<int64_t>(item), s + j * ss * static_cast<int64_t>(item),
                    item);
    }
    for (int32_t i = ndim - 2; i >= 0; --i) {
      if (++index[i] < src->shape[i]) break;
      index[i] = 0;
    }
  }
  return XRT_OK;
}

xrt_status_t fill_zero(int32_t, void*, void* ptr, size_t nbytes) {
  std::memset(ptr, 0, nbytes);
  return XRT_OK;
}

}  // namespace

const xrt_device_api_t* host_device_api() {
  static const xrt_device_api_t table = [] {
    xrt_device_api_t t{};
    t.struct_size = sizeof t;
    t.kind = XRT_DEVICE_CPU;
    t.last_error = last_error;
    t.device_count = device_count;
    t.device_props = device_props;
    t.alloc = alloc;
    t.free = free_memory;
    t.memory_stats = memory_stats;
    t.empty_cache = empty_cache;
    t.reset_peak = reset_peak;
    t.stream_create = stream_create;
    t.stream_destroy = stream_destroy;
    t.stream_synchronize = stream_synchronize;
    t.stream_wait_event = stream_wait_event;
    t.event_create = event_create;
    t.event_destroy = event_destroy;
    t.event_record = event_record;
    t.event_synchronize = event_synchronize;
    t.event_query = event_query;
    t.event_elapsed_ms = event_elapsed_ms;
    t.copy = copy;
    t.copy_strided = copy_strided;
    t.fill_zero = fill_zero;
    t.kind_name = "cpu";
    t.flags = XRT_DEVICE_HOST_MEMORY;
    return t;
  }();
  return &table;
}

std::unique_ptr<xrt_device> make_host_device() {
  auto device = make_plugin_device(host_device_api(), XRT_DEVICE_CPU, 0, "cpu");
  device->name = "cpu";  // the only one of its kind, named without an index
  return device;
}

}  // namespace xrt
