// The devices OpenVINO finds that the runtime lists as devices of its own:
// NPUs as kind "npu", Intel GPUs as kind "gpu", on host memory (OpenVINO
// takes and returns host buffers). OpenVINO's CPU is the runtime's "cpu"
// and is not listed again; a kind with no device is not registered.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xpuruntime_plugin.h"

namespace xrt::ov {

// OpenVINO's device family ("GPU" of "GPU.1") and the runtime's kind for it.
struct DeviceFamily {
  const char* openvino;
  const char* kind;
};
inline constexpr DeviceFamily kDeviceFamilies[] = {{"NPU", "npu"}, {"GPU", "gpu"}};
inline constexpr size_t kNumDeviceFamilies = sizeof kDeviceFamilies / sizeof kDeviceFamilies[0];

struct DeviceKind {
  std::string kind;                  // "npu", "gpu"
  std::vector<std::string> devices;  // OpenVINO's names, by index: "GPU.0", "GPU.1"
};

// Groups OpenVINO's device names (ov_device_kinds.cpp, free of OpenVINO
// itself so it is unit-tested anywhere) into kinds, "npu" before "gpu", each in
// OpenVINO's order: {"CPU", "GPU.0", "GPU.1", "NPU"} gives npu: NPU and
// gpu: GPU.0, GPU.1. Other names (CPU, virtual or unknown devices) are
// left out.
std::vector<DeviceKind> device_kinds(const std::vector<std::string>& available);

// The device tables for the kinds OpenVINO has here (none when it is not
// loaded); built once, valid until exit.
const xrt_device_api_t* const* device_tables(size_t* count);

// OpenVINO's name for device `index` of `kind` ("gpu", 1 -> "GPU.1"), or ""
// when OpenVINO has no such device.
std::string openvino_device(const std::string& kind, int32_t index);

}  // namespace xrt::ov
