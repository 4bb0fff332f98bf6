// The plugin ABI's device table: each entry checks the device index, makes
// that device current for the call, and turns CUDA errors into statuses
// with a message for last_error().
#include "device_api.h"

#include <cstdio>

#include "cuda_status.h"
#include "devices.h"
#include "kernels/kernels.h"
#include "peer_access.h"
#include "pinned_pool.h"

namespace xrt::cuda {

namespace {

cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }
cudaEvent_t as_event(void* event) { return static_cast<cudaEvent_t>(event); }

xrt_status_t device_props(int32_t device, xrt_plugin_device_props_t* props) {
  if (xrt_status_t s = check_device(device)) return s;
  cudaDeviceProp p{};
  if (xrt_status_t s = check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties"))
    return s;
  std::snprintf(props->name, sizeof props->name, "%s", p.name);
  props->total_memory = p.totalGlobalMem;
  props->compute_units = p.multiProcessorCount;
  props->compute_capability = p.major * 10 + p.minor;
  return XRT_OK;
}

xrt_status_t alloc(int32_t device, size_t nbytes, void* stream, void** out) {
  if (xrt_status_t s = check_device(device)) return s;
  return allocator(device).allocate(nbytes, as_stream(stream), out);
}

xrt_status_t free_memory(int32_t device, void* ptr) {
  if (xrt_status_t s = check_device(device)) return s;
  return allocator(device).free(ptr);
}

xrt_status_t memory_stats(int32_t device, xrt_memory_stats_t* stats) {
  if (xrt_status_t s = check_device(device)) return s;
  *stats = allocator(device).stats();
  return XRT_OK;
}

xrt_status_t empty_cache(int32_t device) {
  if (xrt_status_t s = check_device(device)) return s;
  return allocator(device).empty_cache();
}

xrt_status_t reset_peak(int32_t device) {
  if (xrt_status_t s = check_device(device)) return s;
  allocator(device).reset_peak();
  return XRT_OK;
}

xrt_status_t stream_create(int32_t device, void** out) {
  if (xrt_status_t s = check_device(device)) return s;
  DeviceGuard guard(device);
  // A blocking stream: work on the default stream orders itself against it,
  // so memory freed on one is not overwritten while the other still runs.
  cudaStream_t stream = nullptr;
  if (xrt_status_t s = check(cudaStreamCreate(&stream), "cudaStreamCreate")) return s;
  *out = stream;
  return XRT_OK;
}

void stream_destroy(int32_t device, void* stream) {
  if (check_device(device) != XRT_OK || !stream) return;
  DeviceGuard guard(device);
  cudaStreamSynchronize(as_stream(stream));
  allocator(device).forget_stream(as_stream(stream));
  cudaStreamDestroy(as_stream(stream));
}

xrt_status_t stream_synchronize(int32_t device, void* stream) {
  if (xrt_status_t s = check_device(device)) return s;
  DeviceGuard guard(device);
  return check(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize");
}

xrt_status_t stream_wait_event(int32_t device, void* stream, void* event) {
  if (xrt_status_t s = check_device(device)) return s;
  DeviceGuard guard(device);
  return check(cudaStreamWaitEvent(as_stream(stream), as_event(event), 0), "cudaStreamWaitEvent");
}

xrt_status_t event_create(int32_t device, void** out) {
  if (xrt_status_t s = check_device(device)) return s;
  DeviceGuard guard(device);
  cudaEvent_t event = nullptr;
  if (xrt_status_t s = check(cudaEventCreate(&event), "cudaEventCreate")) return s;
  *out = event;
  return XRT_OK;
}

void event_destroy(int32_t device, void* event) {
  if (check_device(device) != XRT_OK || !event) return;
  DeviceGuard guard(device);
  cudaEventDestroy(as_event(event));
}

xrt_status_t event_record(int32_t device, void* event, void* stream) {
  if (xrt_status_t s = check_device(device)) return s;
  DeviceGuard guard(device);
  return check(cudaEventRecord(as_event(event), as_stream(stream)), "cudaEventRecord");
}

xrt_status_t event_synchronize(int32_t device, void* event) {
  if (xrt_status_t s = check_device(device)) return s;
  return check(cudaEventSynchronize(as_event(event)), "cudaEventSynchronize");
}

xrt_status_t event_query(int32_t device, void* event, int32_t* done) {
  if (xrt_status_t s = check_device(device)) return s;
  const cudaError_t state = cudaEventQuery(as_event(event));
  if (state == cudaErrorNotReady) {
    cudaGetLastError();
    *done = 0;
    return XRT_OK;
  }
  *done = 1;
  return check(state, "cudaEventQuery");
}

xrt_status_t event_elapsed_ms(int32_t device, void* start, void* end, float* ms) {
  if (xrt_status_t s = check_device(device)) return s;
  return check(cudaEventElapsedTime(ms, as_event(start), as_event(end)), "cudaEventElapsedTime");
}

xrt_status_t copy(int32_t device, void* stream, void* dst, int32_t dst_device, const void* src,
                  int32_t src_device, size_t nbytes) {
  if (xrt_status_t s = check_device(device)) return s;
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream);
  if (src_device >= 0 && src_device != device) {
    // The source's default stream may still be writing it.
    if (xrt_status_t st = check_device(src_device)) return st;
    if (dst_device >= 0) enable_peer_access(device, src_device);
    cudaEvent_t ready = nullptr;
    DeviceGuard on_source(src_device);
    if (xrt_status_t st = check(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming),
                                "cudaEventCreate"))
      return st;
    cudaEventRecord(ready, nullptr);
    cudaSetDevice(device);
    cudaStreamWaitEvent(s, ready, 0);
    cudaEventDestroy(ready);  // released once the wait is satisfied
  }
  if (xrt_status_t st = check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, s),
                              "cudaMemcpyAsync"))
    return st;
  PinnedPool& pinned = PinnedPool::get();
  if (dst_device < 0) pinned.record_use(dst, s);
  if (src_device < 0) pinned.record_use(src, s);
  return XRT_OK;
}

xrt_status_t copy_strided_views(int32_t device, void* stream, const xrt_kernel_tensor_t* dst,
                                const xrt_kernel_tensor_t* src) {
  if (xrt_status_t s = check_device(device)) return s;
  DeviceGuard guard(device);
  char error[512] = {0};
  const xrt_status_t status = copy_strided(dst, src, as_stream(stream), error, sizeof error);
  return status == XRT_OK ? XRT_OK : set_error(status, error);
}

xrt_status_t fill_zero(int32_t device, void* stream, void* ptr, size_t nbytes) {
  if (xrt_status_t s = check_device(device)) return s;
  DeviceGuard guard(device);
  return check(cudaMemsetAsync(ptr, 0, nbytes, as_stream(stream)), "cudaMemsetAsync");
}

xrt_status_t host_alloc(size_t nbytes, void** out) { return PinnedPool::get().allocate(nbytes, out); }
xrt_status_t host_free(void* ptr) { return PinnedPool::get().free(ptr); }

int32_t count() { return device_count(); }

}  // namespace

const xrt_device_api_t* device_api() {
  static const xrt_device_api_t table = [] {
    xrt_device_api_t t{};
    t.struct_size = sizeof t;
    t.kind = XRT_DEVICE_CUDA;
    t.last_error = last_error;
    t.unavailable_reason = unavailable_reason;
    t.device_count = count;
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
    t.copy_strided = copy_strided_views;
    t.fill_zero = fill_zero;
    t.host_alloc = host_alloc;
    t.host_free = host_free;
    t.kind_name = "cuda";
    return t;
  }();
  return &table;
}

}  // namespace xrt::cuda
