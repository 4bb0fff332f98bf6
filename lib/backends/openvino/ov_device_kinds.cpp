#include <string_view>

#include "ov_devices.h"

namespace xrt::ov {

std::vector<DeviceKind> device_kinds(const std::vector<std::string>& available) {
  std::vector<DeviceKind> kinds;
  for (const DeviceFamily& family : kDeviceFamilies) {
    DeviceKind kind{family.kind, {}};
    for (const std::string& name : available) {
      const std::string_view base = std::string_view(name).substr(0, name.find('.'));
      if (base == family.openvino) kind.devices.push_back(name);
    }
    if (!kind.devices.empty()) kinds.push_back(kind);
  }
  return kinds;
}

}  // namespace xrt::ov
