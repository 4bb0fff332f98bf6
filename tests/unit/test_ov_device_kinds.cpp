// How the OpenVINO plugin turns the devices OpenVINO lists into device
// kinds of the runtime: NPUs become "npu", Intel GPUs "gpu", indexed in
// OpenVINO's order; the CPU (the runtime's own host device), virtual and
// unknown devices are left out, and a kind with no device is absent. The
// lists are the shapes OpenVINO reports on machines with and without them.
#include <cstdio>
#include <string>
#include <vector>

#include "ov_devices.h"
#include "unit_check.h"

using xrt::ov::DeviceKind;
using xrt::ov::device_kinds;

using unit::check;

namespace {

std::string describe(const std::vector<DeviceKind>& kinds) {
  std::string text;
  for (const DeviceKind& k : kinds) {
    text += k.kind + ":";
    for (const std::string& d : k.devices) text += " " + d;
    text += ";";
  }
  return text;
}

void expect(const std::vector<std::string>& available, const std::string& want,
            const char* what) {
  const std::string got = describe(device_kinds(available));
  check(got == want, what);
  if (got != want) std::fprintf(stderr, "  got \"%s\", want \"%s\"\n", got.c_str(), want.c_str());
}

}  // namespace

int main() {
  expect({"CPU"}, "", "a CPU-only machine registers no kind");
  expect({}, "", "no devices at all registers no kind");
  expect({"CPU", "NPU"}, "npu: NPU;", "one NPU is npu:0");
  expect({"CPU", "GPU"}, "gpu: GPU;", "a single GPU keeps OpenVINO's name");
  expect({"CPU", "GPU.0", "GPU.1", "NPU"}, "npu: NPU;gpu: GPU.0 GPU.1;",
         "npu first, GPUs by OpenVINO's index");
  expect({"GPU.1", "GPU.0"}, "gpu: GPU.1 GPU.0;", "OpenVINO's order is kept");
  expect({"CPU", "HETERO", "AUTO", "MULTI", "FPGA", "NPUX", "GPUS"}, "",
         "virtual, unknown and look-alike names are left out");
  return unit::report("ov_device_kinds");
}
