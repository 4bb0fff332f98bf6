#include <cstring>

#include "device.h"
#include "error.h"
#include "plugin_result.h"

namespace xrt {

void check_device_call(const xrt_device* device, xrt_status_t returned, const char* what) {
  const xrt_status_t status = plugin_status(returned);
  if (status == XRT_OK) return;
  const char* message = device->api->last_error ? device->api->last_error() : nullptr;
  fail(status, what, " on ", device->name, ": ",
       message && *message ? message : "the backend gave no message");
}

std::unique_ptr<xrt_device> make_plugin_device(const xrt_device_api_t* api, int32_t index,
                                               const std::string& backend) {
  auto device = std::make_unique<xrt_device>();
  device->kind = api->kind;
  device->index = index;
  device->name = std::string(device_kind_name(api->kind)) + ":" + std::to_string(index);
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
  return device;
}

void* device_alloc(xrt_device* device, size_t nbytes, void* stream) {
  if (!device->api) return device->pool->allocate(nbytes)->ptr;
  void* ptr = nullptr;
  check_device_call(device, device->api->alloc(device->index, nbytes, stream, &ptr),
                    "allocating memory");
  return ptr;
}

void device_free(xrt_device* device, void* ptr) {
  if (!device->api) {
    device->pool->release_pointer(ptr);
    return;
  }
  check_device_call(device, device->api->free(device->index, ptr), "freeing memory");
}

}  // namespace xrt
