#include "host_services.h"

#include "device.h"
#include "error.h"
#include "runtime.h"

namespace xrt {
namespace {

xrt_device* find_device(xrt_device_kind_t kind, int32_t index) {
  Runtime& runtime = Runtime::get();
  for (size_t i = 0; i < runtime.device_count(); ++i) {
    xrt_device* d = runtime.device_at(i);
    if (d->kind == kind && d->index == index) return d;
  }
  fail(XRT_ERROR_NOT_FOUND, "no ", device_kind_name(kind), " device ", index);
}

template <typename Body>
xrt_status_t guarded(Body&& body) noexcept {
  try {
    body();
    return XRT_OK;
  } catch (const Error& e) {
    return e.status();
  } catch (...) {
    return XRT_ERROR_OUT_OF_MEMORY;
  }
}

xrt_status_t memory_alloc(xrt_device_kind_t kind, int32_t index, size_t nbytes,
                          void** out) noexcept {
  return guarded([&] { *out = device_alloc(find_device(kind, index), nbytes, nullptr); });
}

xrt_status_t memory_free(xrt_device_kind_t kind, int32_t index, void* ptr) noexcept {
  return guarded([&] {
    if (ptr) device_free(find_device(kind, index), ptr);
  });
}

}  // namespace

const xrt_host_api_t* host_services() {
  static const xrt_host_api_t table{sizeof(xrt_host_api_t), memory_alloc, memory_free};
  return &table;
}

}  // namespace xrt
