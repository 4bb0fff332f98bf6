#include "host_services.h"

#include "device.h"
#include "enum_code.h"
#include "runtime.h"

namespace xrt {
namespace {

// The device of `kind` numbered `index`, or NULL. The plugin may pass any
// integer as the kind, so it is compared as one.
xrt_device* find_device(const xrt_device_kind_t& kind, int32_t index) noexcept {
  try {
    Runtime& runtime = Runtime::get();
    for (size_t i = 0; i < runtime.device_count(); ++i) {
      xrt_device* d = runtime.device_at(i);
      if (enum_code(d->kind) == enum_code(kind) && d->index == index) return d;
    }
  } catch (...) {
    // No runtime, no device.
  }
  return nullptr;
}

// The public calls do the work, so a failure leaves its message for
// xrt_last_error like any other.
xrt_status_t memory_alloc(xrt_device_kind_t kind, int32_t index, size_t nbytes,
                          void** out) noexcept {
  xrt_device* device = find_device(kind, index);
  return device ? xrt_memory_alloc(device, nbytes, out) : XRT_ERROR_NOT_FOUND;
}

xrt_status_t memory_free(xrt_device_kind_t kind, int32_t index, void* ptr) noexcept {
  xrt_device* device = find_device(kind, index);
  return device ? xrt_memory_free(device, ptr) : XRT_ERROR_NOT_FOUND;
}

}  // namespace

const xrt_host_api_t* host_services() {
  static const xrt_host_api_t table{sizeof(xrt_host_api_t), memory_alloc, memory_free};
  return &table;
}

}  // namespace xrt
