#include "ov_devices.h"

#include <cstdio>

#include "ov_library.h"

namespace xrt::ov {
namespace {

const std::vector<DeviceKind>& found() {
  static const std::vector<DeviceKind> kinds =
      load() ? device_kinds(available_devices()) : std::vector<DeviceKind>{};
  return kinds;
}

const DeviceKind* find_kind(const std::string& kind) {
  for (const DeviceKind& k : found())
    if (k.kind == kind) return &k;
  return nullptr;
}

const char* last_error() { return "openvino: no such device"; }

// One table per family; the functions know their family by the template
// argument, as the table passes only the device index.
template <size_t F>
int32_t device_count() {
  const DeviceKind* k = find_kind(kDeviceFamilies[F].kind);
  return k ? static_cast<int32_t>(k->devices.size()) : 0;
}

template <size_t F>
xrt_status_t device_props(int32_t index, xrt_plugin_device_props_t* props) {
  const std::string name = openvino_device(kDeviceFamilies[F].kind, index);
  if (name.empty()) return XRT_ERROR_INVALID_ARGUMENT;
  std::snprintf(props->name, sizeof props->name, "OpenVINO %s", name.c_str());
  return XRT_OK;
}

template <size_t F>
xrt_device_api_t make_table() {
  xrt_device_api_t t{};
  t.struct_size = sizeof t;
  t.last_error = last_error;
  t.device_count = device_count<F>;
  t.device_props = device_props<F>;
  t.kind_name = kDeviceFamilies[F].kind;
  t.flags = XRT_DEVICE_HOST_MEMORY;
  return t;
}

static_assert(kNumDeviceFamilies == 2, "one table per family below");
const xrt_device_api_t kTables[kNumDeviceFamilies] = {make_table<0>(), make_table<1>()};

}  // namespace

const xrt_device_api_t* const* device_tables(size_t* count) {
  static const std::vector<const xrt_device_api_t*> tables = [] {
    std::vector<const xrt_device_api_t*> present;
    for (size_t f = 0; f < kNumDeviceFamilies; ++f)
      if (find_kind(kDeviceFamilies[f].kind)) present.push_back(&kTables[f]);
    return present;
  }();
  *count = tables.size();
  return tables.empty() ? nullptr : tables.data();
}

std::string openvino_device(const std::string& kind, int32_t index) {
  const DeviceKind* k = find_kind(kind);
  if (!k || index < 0 || static_cast<size_t>(index) >= k->devices.size()) return "";
  return k->devices[static_cast<size_t>(index)];
}

}  // namespace xrt::ov
