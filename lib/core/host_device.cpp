#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "device.h"

namespace xrt {
namespace {

// 64-byte alignment keeps every host tensor on its own cache lines and
// satisfies AVX-512 loads.
constexpr size_t kHostAlignment = 64;

struct HostAllocator : RawAllocator {
  void* alloc(size_t nbytes) override {
    return std::aligned_alloc(kHostAlignment, (nbytes + kHostAlignment - 1) / kHostAlignment *
                                                  kHostAlignment);
  }
  void free(void* ptr, size_t) override { std::free(ptr); }
};

std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "host CPU";
}

}  // namespace

std::unique_ptr<xrt_device> make_host_device() {
  auto device = std::make_unique<xrt_device>();
  device->kind = XRT_DEVICE_CPU;
  device->index = 0;
  device->name = "cpu";
  device->description = cpu_model_name();
  device->total_memory =
      static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  device->compute_units = static_cast<int32_t>(std::thread::hardware_concurrency());
  device->compute_capability = 0;
  device->raw_allocator = std::make_unique<HostAllocator>();
  device->pool = std::make_unique<MemoryPool>(device->raw_allocator.get(), device->name);
  return device;
}

}  // namespace xrt
