#include "ort_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <mutex>

#include "ort_logging.h"
#include "runtime_library.h"

namespace xrt::ort {
namespace {

struct Library {
  Functions fn{};
  bool loaded = false;
  std::string version;
  std::string reason;
  std::string details;
  std::vector<std::string> providers;
};

Library& library() {
  static Library lib;
  return lib;
}

template <typename T>
void bind(T& member, const void* table, size_t index) {
  member = reinterpret_cast<T>(static_cast<void* const*>(const_cast<void*>(table))[index]);
}

void bind_all(Functions& f, const void* t) {
  bind(f.GetErrorCode, t, slot::GetErrorCode);
  bind(f.GetErrorMessage, t, slot::GetErrorMessage);
  bind(f.CreateEnvWithCustomLogger, t, slot::CreateEnvWithCustomLogger);
  bind(f.SetOptimizedModelFilePath, t, slot::SetOptimizedModelFilePath);
  bind(f.SetSessionExecutionMode, t, slot::SetSessionExecutionMode);
  bind(f.EnableMemPattern, t, slot::EnableMemPattern);
  bind(f.DisableMemPattern, t, slot::DisableMemPattern);
  bind(f.EnableCpuMemArena, t, slot::EnableCpuMemArena);
  bind(f.DisableCpuMemArena, t, slot::DisableCpuMemArena);
  bind(f.SetSessionLogId, t, slot::SetSessionLogId);
  bind(f.SetSessionLogVerbosityLevel, t, slot::SetSessionLogVerbosityLevel);
  bind(f.SetSessionLogSeverityLevel, t, slot::SetSessionLogSeverityLevel);
  bind(f.RegisterCustomOpsLibrary, t, slot::RegisterCustomOpsLibrary);
  bind(f.RunOptionsSetTerminate, t, slot::RunOptionsSetTerminate);
  bind(f.CreateSession, t, slot::CreateSession);
  bind(f.CreateSessionFromArray, t, slot::CreateSessionFromArray);
  bind(f.CreateSessionOptions, t, slot::CreateSessionOptions);
  bind(f.EnableProfiling, t, slot::EnableProfiling);
  bind(f.SetSessionGraphOptimizationLevel, t, slot::SetSessionGraphOptimizationLevel);
  bind(f.SetIntraOpNumThreads, t, slot::SetIntraOpNumThreads);
  bind(f.SetInterOpNumThreads, t, slot::SetInterOpNumThreads);
  bind(f.SessionGetInputCount, t, slot::SessionGetInputCount);
  bind(f.SessionGetOutputCount, t, slot::SessionGetOutputCount);
  bind(f.SessionGetInputTypeInfo, t, slot::SessionGetInputTypeInfo);
  bind(f.SessionGetOutputTypeInfo, t, slot::SessionGetOutputTypeInfo);
  bind(f.SessionGetInputName, t, slot::SessionGetInputName);
  bind(f.SessionGetOutputName, t, slot::SessionGetOutputName);
  bind(f.CreateRunOptions, t, slot::CreateRunOptions);
  bind(f.ReleaseRunOptions, t, slot::ReleaseRunOptions);
  bind(f.AddRunConfigEntry, t, slot::AddRunConfigEntry);
  bind(f.AddSessionConfigEntry, t, slot::AddSessionConfigEntry);
  bind(f.RegisterAllocator, t, slot::RegisterAllocator);
  bind(f.CreateIoBinding, t, slot::CreateIoBinding);
  bind(f.ReleaseIoBinding, t, slot::ReleaseIoBinding);
  bind(f.BindInput, t, slot::BindInput);
  bind(f.BindOutput, t, slot::BindOutput);
  bind(f.BindOutputToDevice, t, slot::BindOutputToDevice);
  bind(f.RunWithBinding, t, slot::RunWithBinding);
  bind(f.GetBoundOutputValues, t, slot::GetBoundOutputValues);
  bind(f.ClearBoundOutputs, t, slot::ClearBoundOutputs);
  bind(f.CreateTensorWithDataAsOrtValue, t, slot::CreateTensorWithDataAsOrtValue);
  bind(f.GetTensorMutableData, t, slot::GetTensorMutableData);
  bind(f.Run, t, slot::Run);
  bind(f.CreateTensorAsOrtValue, t, slot::CreateTensorAsOrtValue);
  bind(f.GetResizedStringTensorElementBuffer, t, slot::GetResizedStringTensorElementBuffer);
  bind(f.GetStringTensorDataLength, t, slot::GetStringTensorDataLength);
  bind(f.GetStringTensorContent, t, slot::GetStringTensorContent);
  bind(f.GetValueType, t, slot::GetValueType);
  bind(f.GetValue, t, slot::GetValue);
  bind(f.GetValueCount, t, slot::GetValueCount);
  bind(f.CreateValue, t, slot::CreateValue);
  bind(f.HasValue, t, slot::HasValue);
  bind(f.CastTypeInfoToMapTypeInfo, t, slot::CastTypeInfoToMapTypeInfo);
  bind(f.CastTypeInfoToSequenceTypeInfo, t, slot::CastTypeInfoToSequenceTypeInfo);
  bind(f.CastTypeInfoToOptionalTypeInfo, t, slot::CastTypeInfoToOptionalTypeInfo);
  bind(f.GetMapKeyType, t, slot::GetMapKeyType);
  bind(f.GetMapValueType, t, slot::GetMapValueType);
  bind(f.GetSequenceElementType, t, slot::GetSequenceElementType);
  bind(f.GetOptionalContainedTypeInfo, t, slot::GetOptionalContainedTypeInfo);
  bind(f.CastTypeInfoToTensorInfo, t, slot::CastTypeInfoToTensorInfo);
  bind(f.GetOnnxTypeFromTypeInfo, t, slot::GetOnnxTypeFromTypeInfo);
  bind(f.GetTensorElementType, t, slot::GetTensorElementType);
  bind(f.GetDimensionsCount, t, slot::GetDimensionsCount);
  bind(f.GetDimensions, t, slot::GetDimensions);
  bind(f.GetSymbolicDimensions, t, slot::GetSymbolicDimensions);
  bind(f.GetTensorTypeAndShape, t, slot::GetTensorTypeAndShape);
  bind(f.CreateMemoryInfo, t, slot::CreateMemoryInfo);
  bind(f.CreateCpuMemoryInfo, t, slot::CreateCpuMemoryInfo);
  bind(f.AllocatorFree, t, slot::AllocatorFree);
  bind(f.GetAllocatorWithDefaultOptions, t, slot::GetAllocatorWithDefaultOptions);
  bind(f.SessionEndProfiling, t, slot::SessionEndProfiling);
  bind(f.SessionGetProfilingStartTimeNs, t, slot::SessionGetProfilingStartTimeNs);
  bind(f.ReleaseEnv, t, slot::ReleaseEnv);
  bind(f.ReleaseStatus, t, slot::ReleaseStatus);
  bind(f.ReleaseMemoryInfo, t, slot::ReleaseMemoryInfo);
  bind(f.ReleaseSession, t, slot::ReleaseSession);
  bind(f.ReleaseValue, t, slot::ReleaseValue);
  bind(f.ReleaseTypeInfo, t, slot::ReleaseTypeInfo);
  bind(f.ReleaseTensorTypeAndShapeInfo, t, slot::ReleaseTensorTypeAndShapeInfo);
  bind(f.ReleaseSessionOptions, t, slot::ReleaseSessionOptions);
  bind(f.GetAvailableProviders, t, slot::GetAvailableProviders);
  bind(f.ReleaseAvailableProviders, t, slot::ReleaseAvailableProviders);
  bind(f.SessionOptionsAppendExecutionProvider_TensorRT_V2, t,
       slot::SessionOptionsAppendExecutionProvider_TensorRT_V2);
  bind(f.CreateTensorRTProviderOptions, t, slot::CreateTensorRTProviderOptions);
  bind(f.UpdateTensorRTProviderOptions, t, slot::UpdateTensorRTProviderOptions);
  bind(f.ReleaseTensorRTProviderOptions, t, slot::ReleaseTensorRTProviderOptions);
  bind(f.SessionOptionsAppendExecutionProvider_CUDA_V2, t,
       slot::SessionOptionsAppendExecutionProvider_CUDA_V2);
  bind(f.CreateCUDAProviderOptions, t, slot::CreateCUDAProviderOptions);
  bind(f.UpdateCUDAProviderOptions, t, slot::UpdateCUDAProviderOptions);
  bind(f.ReleaseCUDAProviderOptions, t, slot::ReleaseCUDAProviderOptions);
  bind(f.SessionOptionsAppendExecutionProvider, t, slot::SessionOptionsAppendExecutionProvider);
}

bool try_open(const std::string& path, std::vector<std::string>& attempts) {
  void* handle = plugin::open_library(path, attempts);
  if (!handle) return false;
  auto get_base = reinterpret_cast<GetApiBaseFn>(dlsym(handle, kEntrySymbol));
  const OrtApiBase* base = get_base ? get_base() : nullptr;
  if (!base) {
    attempts.push_back(path + ": has no " + kEntrySymbol);
    dlclose(handle);
    return false;
  }
  const void* table = base->GetApi(kApiVersion);
  if (!table) {
    attempts.push_back(path + ": onnxruntime " + base->GetVersionString() +
                       " is too old (1.19 or newer is needed)");
    dlclose(handle);
    return false;
  }
  // Kept open for the life of the process, like the plugin itself.
  Library& lib = library();
  bind_all(lib.fn, table);
  lib.version = base->GetVersionString();
  return true;
}

void list_providers(Library& lib) {
  char** names = nullptr;
  int count = 0;
  if (OrtStatus* status = lib.fn.GetAvailableProviders(&names, &count)) {
    lib.fn.ReleaseStatus(status);
    return;
  }
  for (int i = 0; i < count; ++i) lib.providers.emplace_back(names[i]);
  if (OrtStatus* status = lib.fn.ReleaseAvailableProviders(names, count)) {
    lib.fn.ReleaseStatus(status);
  }
}

void load_once() {
  Library& lib = library();
  const plugin::LibrarySearch search{"XRT_ONNXRUNTIME_LIB", "onnxruntime/capi",
                                     "libonnxruntime.so.1",
                                     {"libonnxruntime.so.1", "libonnxruntime.so"}};
  std::vector<std::string> attempts;
  for (const std::string& path : plugin::library_candidates(search)) {
    if (try_open(path, attempts)) {
      lib.loaded = true;
      break;
    }
  }
  if (!lib.loaded) {
    lib.reason = "onnxruntime 1.19 or newer was not found (pip install onnxruntime); tried: " +
                 plugin::join_attempts(attempts);
    lib.details = "unavailable: " + lib.reason;
    return;
  }
  list_providers(lib);
  lib.details = "providers: ";
  for (size_t i = 0; i < lib.providers.size(); ++i) {
    lib.details += (i ? ", " : "") + lib.providers[i];
  }
}

struct Environment {
  OrtEnv* env = nullptr;
  OrtMemoryInfo* cpu = nullptr;
  xrt_status_t status = XRT_OK;
  std::string error;
};

Environment& environment_state() {
  static Environment state;
  static std::once_flag once;
  std::call_once(once, [] {
    const Functions& f = api();
    char message[512] = "";
    OrtStatus* status = f.CreateEnvWithCustomLogger(write_log, nullptr, default_log_severity(),
                                                    "xpuruntime", &state.env);
    if (!status) status = f.CreateCpuMemoryInfo(kArenaAllocator, kMemTypeDefault, &state.cpu);
    state.status = take(status, message, sizeof message);
    state.error = message;
  });
  return state;
}

}  // namespace

bool load() {
  static std::once_flag once;
  std::call_once(once, load_once);
  return library().loaded;
}

const std::string& unavailable_reason() { return library().reason; }
const char* version() { return library().version.c_str(); }
const std::vector<std::string>& available_providers() { return library().providers; }

const char* details() {
  load();
  return library().details.c_str();
}

bool has_provider(std::string_view name) {
  const auto& all = library().providers;
  return std::find(all.begin(), all.end(), name) != all.end();
}

const Functions& api() { return library().fn; }

xrt_status_t environment(const OrtEnv** env, char* error, size_t capacity) {
  Environment& state = environment_state();
  if (state.status != XRT_OK) {
    return fail(state.status, error, capacity, "%s", state.error.c_str());
  }
  *env = state.env;
  return XRT_OK;
}

const OrtMemoryInfo* cpu_memory() { return environment_state().cpu; }

xrt_status_t take(OrtStatus* status, char* error, size_t capacity) {
  if (!status) return XRT_OK;
  const Functions& f = api();
  xrt_status_t result;
  switch (f.GetErrorCode(status)) {
    case kErrNoSuchFile: result = XRT_ERROR_NOT_FOUND; break;
    case kErrInvalidArgument:
    case kErrInvalidGraph:
    case kErrInvalidProtobuf: result = XRT_ERROR_INVALID_ARGUMENT; break;
    case kErrNotImplemented: result = XRT_ERROR_UNSUPPORTED; break;
    default: result = XRT_ERROR_BACKEND; break;
  }
  fail(result, error, capacity, "onnxruntime: %s", f.GetErrorMessage(status));
  f.ReleaseStatus(status);
  return result;
}

}  // namespace xrt::ort
