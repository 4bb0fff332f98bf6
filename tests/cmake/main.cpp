// Built by CMake through find_package(xpuruntime): adds two float32 tensors
// on the CPU through the C API and checks every element against the sum
// computed here, and that the header and the library agree on the version.
#include <xpuruntime/xpuruntime.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

namespace {

bool ok(xrt_status_t status, const char* what) {
  if (status == XRT_OK) return true;
  std::printf("%s: %s: %s\n", what, xrt_status_name(status), xrt_last_error());
  return false;
}

}  // namespace

int main() {
  if (std::strcmp(xrt_version(), XRT_VERSION_STRING) != 0) {
    std::printf("header version %s, library version %s\n", XRT_VERSION_STRING, xrt_version());
    return 1;
  }
  xrt_device_t* cpu = nullptr;
  if (!ok(xrt_device_by_name("cpu", &cpu), "xrt_device_by_name")) return 1;

  const int64_t shape[2] = {3, 5};
  xrt_tensor_t* a = nullptr;
  xrt_tensor_t* b = nullptr;
  xrt_tensor_t* sum = nullptr;
  int failures = 1;
  if (ok(xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &a), "create a") &&
      ok(xrt_tensor_create(cpu, XRT_FLOAT32, 2, shape, &b), "create b")) {
    void* pa = nullptr;
    void* pb = nullptr;
    xrt_tensor_data(a, &pa);
    xrt_tensor_data(b, &pb);
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (int i = 0; i < 15; ++i) {
      static_cast<float*>(pa)[i] = uniform(rng);
      static_cast<float*>(pb)[i] = uniform(rng);
    }
    if (ok(xrt_add(a, b, nullptr, &sum), "xrt_add")) {
      void* ps = nullptr;
      xrt_tensor_data(sum, &ps);
      failures = 0;
      for (int i = 0; i < 15; ++i) {
        double expected = double(static_cast<float*>(pa)[i]) + double(static_cast<float*>(pb)[i]);
        if (std::fabs(static_cast<float*>(ps)[i] - expected) > 1e-6) ++failures;
      }
    }
  }
  xrt_tensor_release(sum);
  xrt_tensor_release(b);
  xrt_tensor_release(a);
  std::printf("xpuruntime %s from CMake: %d failed\n", xrt_version(), failures);
  return failures == 0 ? 0 : 1;
}
