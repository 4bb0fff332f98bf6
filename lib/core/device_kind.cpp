// The device kinds this runtime knows, by name.
#include "device.h"
#include "enum_code.h"
#include "error.h"

namespace xrt {

const char* device_kind_name(xrt_device_kind_t kind) {
  switch (kind) {
    case XRT_DEVICE_CPU: return "cpu";
    case XRT_DEVICE_CUDA: return "cuda";
  }
  return "unknown";
}

xrt_device_kind_t checked_device_kind(const xrt_device_kind_t& kind, const std::string& what) {
  const int32_t code = enum_code(kind);
  XRT_REQUIRE(code == XRT_DEVICE_CPU || code == XRT_DEVICE_CUDA, what, ": device kind code ", code,
              " is out of range (expected ", XRT_DEVICE_CPU, " cpu or ", XRT_DEVICE_CUDA, " cuda)");
  return kind;
}

}  // namespace xrt
