// Finding and loading libonnxruntime, the process-wide ORT environment, and
// turning ORT's errors into xrt statuses.
#pragma once

#include "session_support.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ort_abi.h"
#include "xpuruntime.h"

namespace xrt::ort {

// Loads ORT once (thread-safe). False when no usable library was found; the
// reason then says what was tried.
bool load();
const std::string& unavailable_reason();
// The ORT version ("1.32.0"), "" until loaded.
const char* version();
// "providers: A, B" when loaded, "unavailable: <reason>" otherwise.
const char* details();
const std::vector<std::string>& available_providers();
bool has_provider(std::string_view name);

// The function table; valid only after load() returned true.
const Functions& api();

// The environment and the CPU memory description every session shares,
// created on first use.
xrt_status_t environment(const OrtEnv** env, char* error, size_t capacity);
const OrtMemoryInfo* cpu_memory();

// XRT_OK for NULL; otherwise maps the ORT error code, writes
// "onnxruntime: <message>" and releases the status.
xrt_status_t take(OrtStatus* status, char* error, size_t capacity);
using plugin::fail;

struct Release {
  void operator()(OrtStatus* p) const { api().ReleaseStatus(p); }
  void operator()(OrtSession* p) const { api().ReleaseSession(p); }
  void operator()(OrtSessionOptions* p) const { api().ReleaseSessionOptions(p); }
  void operator()(OrtValue* p) const { api().ReleaseValue(p); }
  void operator()(OrtTypeInfo* p) const { api().ReleaseTypeInfo(p); }
  void operator()(OrtTensorTypeAndShapeInfo* p) const { api().ReleaseTensorTypeAndShapeInfo(p); }
  void operator()(OrtMemoryInfo* p) const { api().ReleaseMemoryInfo(p); }
  void operator()(OrtRunOptions* p) const { api().ReleaseRunOptions(p); }
  void operator()(OrtIoBinding* p) const { api().ReleaseIoBinding(p); }
  void operator()(OrtCUDAProviderOptionsV2* p) const { api().ReleaseCUDAProviderOptions(p); }
  void operator()(OrtTensorRTProviderOptionsV2* p) const {
    api().ReleaseTensorRTProviderOptions(p);
  }
};
template <typename T>
using Owned = std::unique_ptr<T, Release>;

}  // namespace xrt::ort
