#include <cstring>

#include "device.h"
#include "error.h"
#include "plugin_result.h"
#include "struct_access.h"

namespace xrt {

void check_device_call(const xrt_device* device, xrt_status_t returned, const char* what) {
  const xrt_status_t status = plugin_status(returned);
  if (status == XRT_OK) return;
  const char* message = device->api->last_error ? device->api->last_error() : nullptr;
  fail(status, what, " on ", device->name, ": ",
       message && *message ? message : "the backend gave no message");
}

std::unique_ptr<xrt_device> make_plugin_device(const xrt_device_api_t* api, xrt_device_kind_t kind,
                                               int32_t index, const std::string& backend) {
  auto device = std::make_unique<xrt_device>();
  device->kind = kind;
  device->index = index;
  device->kind_name = device_kind_name(kind);
  device->name = device->kind_name + ":" + std::to_string(index);
  device->api = api;
  device->backend = backend;
  xrt_plugin_device_props_t props{};
  props.struct_size = sizeof props;
  check_device_call(device.get(), api->device_props(index, &props), "reading the properties");
  props.name[sizeof props.name - 1] = '\0';
  device->description = props.name;
  device->total_memory = props.total_memory;
  device->compute_units = props.compute_units;
  device->compute_capability = props.compute_capability;
  // Host memory is served by the host's table from here on.
  const bool host_memory = XRT_HAS_FIELD(api, flags) && (api->flags & XRT_DEVICE_HOST_MEMORY);
  if (host_memory) {
    device->api = host_device_api();
    device->pool = &host_pool();
  }
  device->host_memory = host_memory;
  return device;
}

void* device_alloc(xrt_device* device, size_t nbytes, void* stream) {
  void* ptr = nullptr;
  check_device_call(device, device->api->alloc(device->index, nbytes, stream, &ptr),
                    "allocating memory");
  return ptr;
}

void device_free(xrt_device* device, void* ptr) {
  check_device_call(device, device->api->free(device->index, ptr), "freeing memory");
}

}  // namespace xrt
