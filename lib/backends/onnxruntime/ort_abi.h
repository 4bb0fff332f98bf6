// The part of ONNX Runtime's C ABI this plugin calls. ORT is opened with
// dlopen at run time, so nothing here comes from ORT's own headers: the
// entry point returns a table of function pointers that only ever grows, and
// each function sits at a fixed index in it. Every index used below exists
// in API version 12, except those of optional types and string element
// buffers (API 13); the plugin asks for version 17, which every ORT that
// ships libonnxruntime in its wheel (1.19 and later) provides. Indices were
// counted from onnxruntime_c_api.h; a wrong one fails the CPU session tests.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xrt::ort {

inline constexpr uint32_t kApiVersion = 17;

// Opaque ORT handles.
struct OrtEnv;
struct OrtStatus;
struct OrtMemoryInfo;
struct OrtSession;
struct OrtSessionOptions;
struct OrtValue;
struct OrtRunOptions;
struct OrtIoBinding;
struct OrtTypeInfo;
struct OrtTensorTypeAndShapeInfo;
struct OrtMapTypeInfo;
struct OrtSequenceTypeInfo;
struct OrtOptionalTypeInfo;
struct OrtAllocator;
struct OrtCUDAProviderOptionsV2;
struct OrtTensorRTProviderOptionsV2;

// ORT's C enums are int-sized; only the values the plugin needs are named.
enum ElementType : int {
  kElemFloat = 1,
  kElemUint8 = 2,
  kElemInt8 = 3,
  kElemInt16 = 5,
  kElemInt32 = 6,
  kElemInt64 = 7,
  kElemString = 8,
  kElemBool = 9,
  kElemFloat16 = 10,
  kElemDouble = 11,
  kElemUint16 = 4,
  kElemUint32 = 12,
  kElemUint64 = 13,
  kElemBfloat16 = 16,
  kElemFloat8E4M3FN = 17,
  kElemFloat8E4M3FNUZ = 18,
  kElemFloat8E5M2 = 19,
  kElemFloat8E5M2FNUZ = 20,
};

// ONNXType: what a value or type info is.
enum ValueKind : int {
  kValueTensor = 1,
  kValueSequence = 2,
  kValueMap = 3,
  kValueOptional = 6,
};

enum ErrorCode : int {
  kErrInvalidArgument = 2,
  kErrNoSuchFile = 3,
  kErrInvalidProtobuf = 7,
  kErrNotImplemented = 9,
  kErrInvalidGraph = 10,
};

enum LoggingLevel : int { kLogVerbose = 0, kLogWarning = 2, kLogFatal = 4 };
// ORT calls this for each message at or above the environment's level.
using LoggingFunction = void (*)(void* param, int severity, const char* category,
                                 const char* log_id, const char* code_location,
                                 const char* message);
enum AllocatorType : int { kDeviceAllocator = 0, kArenaAllocator = 1 };
enum MemType : int { kMemTypeDefault = 0 };

// An allocator ORT calls back: `version` is the ORT API version it was
// written for, which tells ORT that the fields after Info are absent.
struct OrtAllocatorTable {
  uint32_t version;
  void* (*Alloc)(OrtAllocatorTable* self, size_t size);
  void (*Free)(OrtAllocatorTable* self, void* p);
  const OrtMemoryInfo* (*Info)(const OrtAllocatorTable* self);
};
inline constexpr uint32_t kAllocatorVersion = 14;

// The exported entry point returns this pair; its layout never changes.
struct OrtApiBase {
  const void* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};
using GetApiBaseFn = const OrtApiBase* (*)();
inline constexpr const char* kEntrySymbol = "OrtGetApiBase";

// Index of each function in the table.
namespace slot {
inline constexpr size_t GetErrorCode = 1;
inline constexpr size_t GetErrorMessage = 2;
inline constexpr size_t CreateEnv = 3;
inline constexpr size_t CreateEnvWithCustomLogger = 4;
inline constexpr size_t CreateSession = 7;
inline constexpr size_t CreateSessionFromArray = 8;
inline constexpr size_t Run = 9;  // runs of values other than tensors; tensors use IoBinding
inline constexpr size_t CreateSessionOptions = 10;
inline constexpr size_t SetOptimizedModelFilePath = 11;
inline constexpr size_t SetSessionExecutionMode = 13;
inline constexpr size_t EnableProfiling = 14;
inline constexpr size_t EnableMemPattern = 16;
inline constexpr size_t DisableMemPattern = 17;
inline constexpr size_t EnableCpuMemArena = 18;
inline constexpr size_t DisableCpuMemArena = 19;
inline constexpr size_t SetSessionLogId = 20;
inline constexpr size_t SetSessionLogVerbosityLevel = 21;
inline constexpr size_t SetSessionLogSeverityLevel = 22;
inline constexpr size_t SetSessionGraphOptimizationLevel = 23;
inline constexpr size_t SetIntraOpNumThreads = 24;
inline constexpr size_t SetInterOpNumThreads = 25;
inline constexpr size_t RegisterCustomOpsLibrary = 29;
inline constexpr size_t SessionGetInputCount = 30;
inline constexpr size_t SessionGetOutputCount = 31;
inline constexpr size_t SessionGetInputTypeInfo = 33;
inline constexpr size_t SessionGetOutputTypeInfo = 34;
inline constexpr size_t SessionGetInputName = 36;
inline constexpr size_t SessionGetOutputName = 37;
inline constexpr size_t CreateRunOptions = 39;
inline constexpr size_t RunOptionsSetTerminate = 46;
inline constexpr size_t CreateTensorAsOrtValue = 48;
inline constexpr size_t CreateTensorWithDataAsOrtValue = 49;
inline constexpr size_t GetTensorMutableData = 51;
inline constexpr size_t GetStringTensorDataLength = 53;
inline constexpr size_t GetStringTensorContent = 54;
inline constexpr size_t CastTypeInfoToTensorInfo = 55;
inline constexpr size_t GetOnnxTypeFromTypeInfo = 56;
inline constexpr size_t GetTensorElementType = 60;
inline constexpr size_t GetDimensionsCount = 61;
inline constexpr size_t GetDimensions = 62;
inline constexpr size_t GetSymbolicDimensions = 63;
inline constexpr size_t GetTensorTypeAndShape = 65;
inline constexpr size_t GetValueType = 67;
inline constexpr size_t CreateMemoryInfo = 68;
inline constexpr size_t CreateCpuMemoryInfo = 69;
inline constexpr size_t AllocatorFree = 76;
inline constexpr size_t GetAllocatorWithDefaultOptions = 78;
inline constexpr size_t GetValue = 80;
inline constexpr size_t GetValueCount = 81;
inline constexpr size_t CreateValue = 82;
inline constexpr size_t ReleaseEnv = 92;
inline constexpr size_t CastTypeInfoToMapTypeInfo = 103;
inline constexpr size_t CastTypeInfoToSequenceTypeInfo = 104;
inline constexpr size_t GetMapKeyType = 105;
inline constexpr size_t GetMapValueType = 106;
inline constexpr size_t GetSequenceElementType = 107;
inline constexpr size_t SessionEndProfiling = 110;
inline constexpr size_t SessionGetProfilingStartTimeNs = 146;
inline constexpr size_t ReleaseStatus = 93;
inline constexpr size_t ReleaseMemoryInfo = 94;
inline constexpr size_t ReleaseSession = 95;
inline constexpr size_t ReleaseValue = 96;
inline constexpr size_t ReleaseRunOptions = 97;
inline constexpr size_t ReleaseTypeInfo = 98;
inline constexpr size_t ReleaseTensorTypeAndShapeInfo = 99;
inline constexpr size_t ReleaseSessionOptions = 100;
inline constexpr size_t GetAvailableProviders = 125;
inline constexpr size_t ReleaseAvailableProviders = 126;
inline constexpr size_t AddSessionConfigEntry = 130;
inline constexpr size_t RunWithBinding = 133;
inline constexpr size_t CreateIoBinding = 134;
inline constexpr size_t ReleaseIoBinding = 135;
inline constexpr size_t BindInput = 136;
inline constexpr size_t BindOutput = 137;
inline constexpr size_t BindOutputToDevice = 138;
inline constexpr size_t GetBoundOutputValues = 140;
inline constexpr size_t ClearBoundOutputs = 142;
inline constexpr size_t AddRunConfigEntry = 165;
inline constexpr size_t RegisterAllocator = 176;
inline constexpr size_t SessionOptionsAppendExecutionProvider_TensorRT_V2 = 170;
inline constexpr size_t CreateTensorRTProviderOptions = 171;
inline constexpr size_t UpdateTensorRTProviderOptions = 172;
inline constexpr size_t ReleaseTensorRTProviderOptions = 174;
inline constexpr size_t SessionOptionsAppendExecutionProvider_CUDA_V2 = 204;
inline constexpr size_t CreateCUDAProviderOptions = 205;
inline constexpr size_t UpdateCUDAProviderOptions = 206;
inline constexpr size_t ReleaseCUDAProviderOptions = 208;
inline constexpr size_t HasValue = 192;
inline constexpr size_t SessionOptionsAppendExecutionProvider = 216;
inline constexpr size_t CastTypeInfoToOptionalTypeInfo = 250;
inline constexpr size_t GetOptionalContainedTypeInfo = 251;
inline constexpr size_t GetResizedStringTensorElementBuffer = 252;
}  // namespace slot

// The functions, typed, with the table resolved once at load.
struct Functions {
  int (*GetErrorCode)(const OrtStatus*);
  const char* (*GetErrorMessage)(const OrtStatus*);
  OrtStatus* (*CreateEnvWithCustomLogger)(LoggingFunction log, void* param, int level,
                                          const char* log_id, OrtEnv** out);
  OrtStatus* (*CreateSession)(const OrtEnv*, const char* path, const OrtSessionOptions*,
                              OrtSession** out);
  OrtStatus* (*CreateSessionFromArray)(const OrtEnv*, const void* data, size_t size,
                                       const OrtSessionOptions*, OrtSession** out);
  OrtStatus* (*CreateSessionOptions)(OrtSessionOptions** out);
  OrtStatus* (*EnableProfiling)(OrtSessionOptions*, const char* prefix);
  OrtStatus* (*SetOptimizedModelFilePath)(OrtSessionOptions*, const char* path);
  OrtStatus* (*SetSessionExecutionMode)(OrtSessionOptions*, int mode);
  OrtStatus* (*EnableMemPattern)(OrtSessionOptions*);
  OrtStatus* (*DisableMemPattern)(OrtSessionOptions*);
  OrtStatus* (*EnableCpuMemArena)(OrtSessionOptions*);
  OrtStatus* (*DisableCpuMemArena)(OrtSessionOptions*);
  OrtStatus* (*SetSessionLogId)(OrtSessionOptions*, const char* log_id);
  OrtStatus* (*SetSessionLogVerbosityLevel)(OrtSessionOptions*, int level);
  OrtStatus* (*SetSessionLogSeverityLevel)(OrtSessionOptions*, int level);
  // dlopens the library and calls its RegisterCustomOps; the handle must
  // stay open as long as sessions made with the options.
  OrtStatus* (*RegisterCustomOpsLibrary)(OrtSessionOptions*, const char* path, void** handle);
  OrtStatus* (*SetSessionGraphOptimizationLevel)(OrtSessionOptions*, int level);
  OrtStatus* (*SetIntraOpNumThreads)(OrtSessionOptions*, int n);
  OrtStatus* (*SetInterOpNumThreads)(OrtSessionOptions*, int n);
  OrtStatus* (*SessionGetInputCount)(const OrtSession*, size_t* out);
  OrtStatus* (*SessionGetOutputCount)(const OrtSession*, size_t* out);
  OrtStatus* (*SessionGetInputTypeInfo)(const OrtSession*, size_t index, OrtTypeInfo** out);
  OrtStatus* (*SessionGetOutputTypeInfo)(const OrtSession*, size_t index, OrtTypeInfo** out);
  OrtStatus* (*SessionGetInputName)(const OrtSession*, size_t index, OrtAllocator*, char** out);
  OrtStatus* (*SessionGetOutputName)(const OrtSession*, size_t index, OrtAllocator*, char** out);
  OrtStatus* (*CreateRunOptions)(OrtRunOptions** out);
  void (*ReleaseRunOptions)(OrtRunOptions*);
  // Every run using these options stops as soon as it can, with an error.
  OrtStatus* (*RunOptionsSetTerminate)(OrtRunOptions*);
  // Run-time settings by key, e.g. "disable_synchronize_execution_providers".
  OrtStatus* (*AddRunConfigEntry)(OrtRunOptions*, const char* key, const char* value);
  // A binding names a run's inputs and where its outputs go; the session
  // runs it, and the outputs it allocated come back as values.
  // Settings by key, e.g. "session.use_env_allocators".
  OrtStatus* (*AddSessionConfigEntry)(OrtSessionOptions*, const char* key, const char* value);
  // Shares an allocator with every session that uses the environment's
  // allocators; it must outlive them.
  OrtStatus* (*RegisterAllocator)(OrtEnv*, OrtAllocatorTable* allocator);
  OrtStatus* (*CreateIoBinding)(OrtSession*, OrtIoBinding** out);
  void (*ReleaseIoBinding)(OrtIoBinding*);
  OrtStatus* (*BindInput)(OrtIoBinding*, const char* name, const OrtValue* value);
  OrtStatus* (*BindOutput)(OrtIoBinding*, const char* name, const OrtValue* value);
  OrtStatus* (*BindOutputToDevice)(OrtIoBinding*, const char* name, const OrtMemoryInfo* where);
  OrtStatus* (*RunWithBinding)(OrtSession*, const OrtRunOptions*, const OrtIoBinding*);
  // The array comes from the allocator (freed with it); the caller owns
  // each value in it.
  OrtStatus* (*GetBoundOutputValues)(const OrtIoBinding*, OrtAllocator*, OrtValue*** values,
                                     size_t* count);
  // Unbinds every output (the values stay with whoever else holds them).
  void (*ClearBoundOutputs)(OrtIoBinding*);
  // size is in bytes; the data stays owned by the caller.
  OrtStatus* (*CreateTensorWithDataAsOrtValue)(const OrtMemoryInfo*, void* data, size_t size,
                                               const int64_t* shape, size_t ndim, int elem_type,
                                               OrtValue** out);
  OrtStatus* (*GetTensorMutableData)(OrtValue*, void** out);
  // Values other than tensors of numbers.
  OrtStatus* (*Run)(OrtSession*, const OrtRunOptions*, const char* const* input_names,
                    const OrtValue* const* inputs, size_t num_inputs,
                    const char* const* output_names, size_t num_outputs, OrtValue** outputs);
  // A tensor ORT allocates (string tensors: empty strings to fill).
  OrtStatus* (*CreateTensorAsOrtValue)(OrtAllocator*, const int64_t* shape, size_t ndim,
                                       int elem_type, OrtValue** out);
  // Resizes string element `index` to `length` bytes and says where to write them.
  OrtStatus* (*GetResizedStringTensorElementBuffer)(OrtValue*, size_t index, size_t length,
                                                    char** buffer);
  OrtStatus* (*GetStringTensorDataLength)(const OrtValue*, size_t* out);
  // Every string's bytes back to back; offsets[i] is where string i starts.
  OrtStatus* (*GetStringTensorContent)(const OrtValue*, void* data, size_t data_length,
                                       size_t* offsets, size_t num_offsets);
  OrtStatus* (*GetValueType)(const OrtValue*, int* out);
  // Sequence element `index`, or a map's keys (0) and values (1): a new value.
  OrtStatus* (*GetValue)(const OrtValue*, int index, OrtAllocator*, OrtValue** out);
  OrtStatus* (*GetValueCount)(const OrtValue*, size_t* out);
  // A sequence of copies of `values`, or a map of keys and values (2).
  OrtStatus* (*CreateValue)(const OrtValue* const* values, size_t count, int kind,
                            OrtValue** out);
  // 0 for an optional that holds nothing.
  OrtStatus* (*HasValue)(const OrtValue*, int* out);
  // Views into the type info (NULL when it is another kind); the element
  // and contained types are new and released by the caller.
  OrtStatus* (*CastTypeInfoToMapTypeInfo)(const OrtTypeInfo*, const OrtMapTypeInfo** out);
  OrtStatus* (*CastTypeInfoToSequenceTypeInfo)(const OrtTypeInfo*,
                                               const OrtSequenceTypeInfo** out);
  OrtStatus* (*CastTypeInfoToOptionalTypeInfo)(const OrtTypeInfo*,
                                               const OrtOptionalTypeInfo** out);
  OrtStatus* (*GetMapKeyType)(const OrtMapTypeInfo*, int* out);
  OrtStatus* (*GetMapValueType)(const OrtMapTypeInfo*, OrtTypeInfo** out);
  OrtStatus* (*GetSequenceElementType)(const OrtSequenceTypeInfo*, OrtTypeInfo** out);
  OrtStatus* (*GetOptionalContainedTypeInfo)(const OrtOptionalTypeInfo*, OrtTypeInfo** out);
  // The result is a view into the type info: never released on its own.
  OrtStatus* (*CastTypeInfoToTensorInfo)(const OrtTypeInfo*,
                                         const OrtTensorTypeAndShapeInfo** out);
  OrtStatus* (*GetOnnxTypeFromTypeInfo)(const OrtTypeInfo*, int* out);
  OrtStatus* (*GetTensorElementType)(const OrtTensorTypeAndShapeInfo*, int* out);
  OrtStatus* (*GetDimensionsCount)(const OrtTensorTypeAndShapeInfo*, size_t* out);
  OrtStatus* (*GetDimensions)(const OrtTensorTypeAndShapeInfo*, int64_t* dims, size_t n);
  OrtStatus* (*GetSymbolicDimensions)(const OrtTensorTypeAndShapeInfo*, const char** names,
                                      size_t n);
  OrtStatus* (*GetTensorTypeAndShape)(const OrtValue*, OrtTensorTypeAndShapeInfo** out);
  OrtStatus* (*CreateMemoryInfo)(const char* name, int allocator_type, int device_id,
                                 int mem_type, OrtMemoryInfo** out);
  OrtStatus* (*CreateCpuMemoryInfo)(int allocator_type, int mem_type, OrtMemoryInfo** out);
  OrtStatus* (*AllocatorFree)(OrtAllocator*, void* p);
  // The default allocator belongs to ORT and is never released.
  OrtStatus* (*GetAllocatorWithDefaultOptions)(OrtAllocator** out);
  // Writes the profile and returns its file name (freed with the allocator).
  OrtStatus* (*SessionEndProfiling)(OrtSession*, OrtAllocator*, char** out);
  // Wall-clock (CLOCK_REALTIME) nanoseconds at which profiling started.
  OrtStatus* (*SessionGetProfilingStartTimeNs)(const OrtSession*, uint64_t* out);
  void (*ReleaseEnv)(OrtEnv*);
  void (*ReleaseStatus)(OrtStatus*);
  void (*ReleaseMemoryInfo)(OrtMemoryInfo*);
  void (*ReleaseSession)(OrtSession*);
  void (*ReleaseValue)(OrtValue*);
  void (*ReleaseTypeInfo)(OrtTypeInfo*);
  void (*ReleaseTensorTypeAndShapeInfo)(OrtTensorTypeAndShapeInfo*);
  void (*ReleaseSessionOptions)(OrtSessionOptions*);
  OrtStatus* (*GetAvailableProviders)(char*** out, int* count);
  OrtStatus* (*ReleaseAvailableProviders)(char** list, int count);
  OrtStatus* (*SessionOptionsAppendExecutionProvider_TensorRT_V2)(
      OrtSessionOptions*, const OrtTensorRTProviderOptionsV2*);
  OrtStatus* (*CreateTensorRTProviderOptions)(OrtTensorRTProviderOptionsV2** out);
  OrtStatus* (*UpdateTensorRTProviderOptions)(OrtTensorRTProviderOptionsV2*,
                                              const char* const* keys,
                                              const char* const* values, size_t n);
  void (*ReleaseTensorRTProviderOptions)(OrtTensorRTProviderOptionsV2*);
  OrtStatus* (*SessionOptionsAppendExecutionProvider_CUDA_V2)(OrtSessionOptions*,
                                                              const OrtCUDAProviderOptionsV2*);
  OrtStatus* (*CreateCUDAProviderOptions)(OrtCUDAProviderOptionsV2** out);
  OrtStatus* (*UpdateCUDAProviderOptions)(OrtCUDAProviderOptionsV2*, const char* const* keys,
                                          const char* const* values, size_t n);
  void (*ReleaseCUDAProviderOptions)(OrtCUDAProviderOptionsV2*);
  // Generic form for providers other than CUDA and TensorRT.
  OrtStatus* (*SessionOptionsAppendExecutionProvider)(OrtSessionOptions*, const char* name,
                                                      const char* const* keys,
                                                      const char* const* values, size_t n);
};

}  // namespace xrt::ort
