// xrt_session_run against ONNX Runtime's own C API Run on the same model,
// in one process: prints "xrt_session_run_ns N" and "ort_run_ns N" (median
// per call over repeated batches).
//   bench_session_c MODEL LIBONNXRUNTIME
// The model has float32 inputs "a" and "b" of 16 elements and output "c".
// ORT is reached through the plugin's own declaration of its C ABI.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <xpuruntime/xpuruntime.h>

#include "ort_abi.h"

namespace {

using namespace xrt::ort;
constexpr int kBatches = 31;
constexpr int kPerBatch = 20000;

template <typename Fn>
double median_ns(Fn&& fn) {
  std::vector<double> per_call;
  for (int b = 0; b < kBatches; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kPerBatch; ++i) fn();
    const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - t0;
    per_call.push_back(elapsed.count() / kPerBatch);
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

[[noreturn]] void die(const char* what, const char* why) {
  std::fprintf(stderr, "%s: %s\n", what, why);
  std::exit(1);
}

template <typename T>
T fn(const void* table, size_t index) {
  return reinterpret_cast<T>(static_cast<void* const*>(const_cast<void*>(table))[index]);
}

void ort_check(const void* api, OrtStatus* status, const char* what) {
  if (status) die(what, fn<const char* (*)(const OrtStatus*)>(api, slot::GetErrorMessage)(status));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) die("usage", "bench_session_c MODEL LIBONNXRUNTIME");
  const char* model = argv[1];
  float a[16], b[16];
  for (int i = 0; i < 16; ++i) a[i] = b[i] = static_cast<float>(i);
  const int64_t shape[1] = {16};

  // xpuruntime: tensors wrapped once, a new output per run.
  xrt_device_t* cpu = nullptr;
  xrt_session_t* session = nullptr;
  xrt_tensor_t *ta = nullptr, *tb = nullptr;
  if (xrt_device_by_name("cpu", &cpu) || xrt_session_create(model, nullptr, 0, "onnxruntime", cpu,
                                                            nullptr, 0, &session) ||
      xrt_tensor_wrap(cpu, XRT_FLOAT32, 1, shape, nullptr, a, nullptr, nullptr, &ta) ||
      xrt_tensor_wrap(cpu, XRT_FLOAT32, 1, shape, nullptr, b, nullptr, nullptr, &tb))
    die("xpuruntime", xrt_last_error());
  const char* in_names[2] = {"a", "b"};
  const char* out_names[1] = {"c"};
  const xrt_tensor_t* inputs[2] = {ta, tb};
  const double xrt_ns = median_ns([&] {
    xrt_tensor_t* out = nullptr;
    if (xrt_session_run(session, in_names, inputs, 2, out_names, 1, &out))
      die("xrt_session_run", xrt_last_error());
    xrt_tensor_release(out);
  });

  // ONNX Runtime's C API as its users call it: values wrapped per run, the
  // output allocated by ORT.
  void* lib = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
  if (!lib) die("dlopen", dlerror());
  auto base = reinterpret_cast<GetApiBaseFn>(dlsym(lib, kEntrySymbol))();
  const void* api = base->GetApi(kApiVersion);
  OrtEnv* env = nullptr;
  OrtSessionOptions* options = nullptr;
  OrtSession* ort_session = nullptr;
  OrtMemoryInfo* memory = nullptr;
  ort_check(api, fn<OrtStatus* (*)(int, const char*, OrtEnv**)>(api, slot::CreateEnv)(
                     kLogWarning, "bench", &env), "CreateEnv");
  ort_check(api, fn<OrtStatus* (*)(OrtSessionOptions**)>(api, slot::CreateSessionOptions)(&options),
            "CreateSessionOptions");
  ort_check(api,
            fn<OrtStatus* (*)(const OrtEnv*, const char*, const OrtSessionOptions*, OrtSession**)>(
                api, slot::CreateSession)(env, model, options, &ort_session),
            "CreateSession");
  ort_check(api, fn<OrtStatus* (*)(int, int, OrtMemoryInfo**)>(api, slot::CreateCpuMemoryInfo)(
                     kArenaAllocator, kMemTypeDefault, &memory), "CreateCpuMemoryInfo");
  auto create_tensor = fn<OrtStatus* (*)(const OrtMemoryInfo*, void*, size_t, const int64_t*,
                                         size_t, int, OrtValue**)>(
      api, slot::CreateTensorWithDataAsOrtValue);
  auto run = fn<OrtStatus* (*)(OrtSession*, const OrtRunOptions*, const char* const*,
                               const OrtValue* const*, size_t, const char* const*, size_t,
                               OrtValue**)>(api, slot::Run);
  auto release_value = fn<void (*)(OrtValue*)>(api, slot::ReleaseValue);
  const double ort_ns = median_ns([&] {
    OrtValue* values[2] = {nullptr, nullptr};
    OrtValue* out = nullptr;
    ort_check(api, create_tensor(memory, a, sizeof a, shape, 1, kElemFloat, &values[0]), "tensor");
    ort_check(api, create_tensor(memory, b, sizeof b, shape, 1, kElemFloat, &values[1]), "tensor");
    ort_check(api, run(ort_session, nullptr, in_names, values, 2, out_names, 1, &out), "Run");
    release_value(values[0]);
    release_value(values[1]);
    release_value(out);
  });

  std::printf("xrt_session_run_ns %.1f\nort_run_ns %.1f\n", xrt_ns, ort_ns);
  fn<void (*)(OrtMemoryInfo*)>(api, slot::ReleaseMemoryInfo)(memory);
  fn<void (*)(OrtSession*)>(api, slot::ReleaseSession)(ort_session);
  fn<void (*)(OrtSessionOptions*)>(api, slot::ReleaseSessionOptions)(options);
  fn<void (*)(OrtEnv*)>(api, slot::ReleaseEnv)(env);
  xrt_tensor_release(ta);
  xrt_tensor_release(tb);
  xrt_session_release(session);
  return 0;
}
