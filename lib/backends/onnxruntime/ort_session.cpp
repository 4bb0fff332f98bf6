#include "ort_session.h"

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>

#include "dtype_table.h"
#include "ort_binding.h"
#include "ort_device_memory.h"
#include "ort_options.h"
#include "ort_profile.h"
#include "ort_values.h"
#include "tensorrt_cache.h"

using xrt::ort::ValueInfo;

struct xrt_plugin_session {
  // Declared before the session, so closed after it.
  xrt::ort::OpenLibraries custom_op_libraries;
  xrt::ort::Owned<xrt::ort::OrtSession> session;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<const char*> input_names;
  std::vector<const char*> output_names;
  // Where inputs live and where ORT puts outputs: the shared CPU
  // description, or this session's device.
  const xrt::ort::OrtMemoryInfo* memory = nullptr;
  xrt::ort::Owned<xrt::ort::OrtMemoryInfo> device_memory;
  // NULL: ORT's defaults (each run waits for its GPU work).
  xrt::ort::Owned<xrt::ort::OrtRunOptions> run_options;
  bool on_default_stream = false;  // what run_options says, for stoppable runs' own
  std::string providers;    // property "providers"
  bool profiling = false;  // enable_profiling, until the spans are collected
  // Declared after the session, so released before it.
  xrt::ort::BindingSlot idle_binding;
};

namespace xrt::ort {
namespace {

// A run's per-input/per-output arrays: on the stack for the usual handful.
template <typename T, size_t N = 8>
class SmallArray {
 public:
  explicit SmallArray(size_t n) : data_(n <= N ? inline_.data() : nullptr) {
    if (!data_) {
      heap_.reset(new T[n]);
      data_ = heap_.get();
    }
    std::fill(data_, data_ + n, T{});
  }
  T* data() { return data_; }
  T& operator[](size_t i) { return data_[i]; }

 private:
  std::array<T, N> inline_;
  std::unique_ptr<T[]> heap_;
  T* data_;
};

// Values created during a run, released whichever way the run ends.
class ValueList {
 public:
  explicit ValueList(size_t n) : values_(n), n_(n) {}
  ~ValueList() {
    for (size_t i = 0; i < n_; ++i) {
      if (values_[i]) api().ReleaseValue(values_[i]);
    }
  }
  OrtValue** data() { return values_.data(); }
  OrtValue*& operator[](size_t i) { return values_[i]; }

 private:
  SmallArray<OrtValue*> values_;
  size_t n_;
};

xrt_status_t describe(const OrtSession* session, bool input, size_t index, ValueInfo* value,
                      char* error, size_t capacity) {
  const Functions& f = api();
  const char* role = input ? "input" : "output";
  OrtAllocator* allocator = nullptr;
  char* name = nullptr;
  if (xrt_status_t s = take(f.GetAllocatorWithDefaultOptions(&allocator), error, capacity);
      s != XRT_OK) {
    return s;
  }
  OrtStatus* status = input ? f.SessionGetInputName(session, index, allocator, &name)
                            : f.SessionGetOutputName(session, index, allocator, &name);
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  value->name = name;
  if (xrt_status_t s = take(f.AllocatorFree(allocator, name), error, capacity); s != XRT_OK) {
    return s;
  }

  OrtTypeInfo* raw_type = nullptr;
  status = input ? f.SessionGetInputTypeInfo(session, index, &raw_type)
                 : f.SessionGetOutputTypeInfo(session, index, &raw_type);
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  Owned<OrtTypeInfo> type(raw_type);
  int kind = 0;
  if (xrt_status_t s = take(f.GetOnnxTypeFromTypeInfo(raw_type, &kind), error, capacity);
      s != XRT_OK) {
    return s;
  }
  if (xrt_status_t s = type_name(raw_type, &value->type, error, capacity); s != XRT_OK) {
    return fail(s, error, capacity, "onnxruntime: %s '%s' has a type xpuruntime cannot carry "
                "(opaque or sparse)", role, value->name.c_str());
  }
  if (kind != kValueTensor) {
    value->kind = kind == kValueSequence ? XRT_VALUE_SEQUENCE
                  : kind == kValueMap    ? XRT_VALUE_MAP
                                         : XRT_VALUE_OPTIONAL;
    value->seal();
    return XRT_OK;
  }
  const OrtTensorTypeAndShapeInfo* tensor = nullptr;
  int element = 0;
  size_t ndim = 0;
  status = f.CastTypeInfoToTensorInfo(raw_type, &tensor);
  if (!status) status = f.GetTensorElementType(tensor, &element);
  if (!status) status = f.GetDimensionsCount(tensor, &ndim);
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  if (element == kElemString) {
    value->kind = XRT_VALUE_STRINGS;
  } else if (!dtype_of(element, &value->dtype)) {
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "onnxruntime: %s '%s' has element type %s, which xpuruntime tensors cannot hold",
                role, value->name.c_str(), element_name(element));
  }
  if (ndim > XRT_MAX_DIMS) {
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "onnxruntime: %s '%s' has %zu dimensions; at most %d are supported", role,
                value->name.c_str(), ndim, XRT_MAX_DIMS);
  }
  value->shape.resize(ndim);
  std::array<const char*, XRT_MAX_DIMS> symbols{};
  status = f.GetDimensions(tensor, value->shape.data(), ndim);
  if (!status) status = f.GetSymbolicDimensions(tensor, symbols.data(), ndim);
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  for (size_t d = 0; d < ndim; ++d) {
    if (value->shape[d] < 0) value->shape[d] = -1;
    value->dim_names.emplace_back(symbols[d] ? symbols[d] : "");
  }
  value->seal();
  return XRT_OK;
}

xrt_status_t describe_all(xrt_plugin_session* s, char* error, size_t capacity) {
  const Functions& f = api();
  size_t num_inputs = 0, num_outputs = 0;
  OrtStatus* status = f.SessionGetInputCount(s->session.get(), &num_inputs);
  if (!status) status = f.SessionGetOutputCount(s->session.get(), &num_outputs);
  if (xrt_status_t st = take(status, error, capacity); st != XRT_OK) return st;
  s->inputs.resize(num_inputs);
  s->outputs.resize(num_outputs);
  for (size_t i = 0; i < num_inputs; ++i) {
    if (xrt_status_t st = describe(s->session.get(), true, i, &s->inputs[i], error, capacity);
        st != XRT_OK) {
      return st;
    }
    s->input_names.push_back(s->inputs[i].name.c_str());
  }
  for (size_t i = 0; i < num_outputs; ++i) {
    if (xrt_status_t st = describe(s->session.get(), false, i, &s->outputs[i], error, capacity);
        st != XRT_OK) {
      return st;
    }
    s->output_names.push_back(s->outputs[i].name.c_str());
  }
  return XRT_OK;
}

// Ordered on the default stream like every op, a run returns without
// waiting for its GPU work.
xrt_status_t make_run_options(bool on_default_stream, Owned<OrtRunOptions>* out, char* error,
                              size_t capacity) {
  const Functions& f = api();
  OrtRunOptions* raw = nullptr;
  if (xrt_status_t st = take(f.CreateRunOptions(&raw), error, capacity); st != XRT_OK) return st;
  out->reset(raw);
  if (!on_default_stream) return XRT_OK;
  return take(f.AddRunConfigEntry(raw, "disable_synchronize_execution_providers", "1"), error,
              capacity);
}

void terminate_run(void* run_options) {
  if (OrtStatus* status = api().RunOptionsSetTerminate(static_cast<OrtRunOptions*>(run_options)))
    api().ReleaseStatus(status);
}

xrt_status_t prepare_cuda(xrt_plugin_session* s, int32_t device_index, bool on_default_stream,
                          char* error, size_t capacity) {
  const Functions& f = api();
  OrtMemoryInfo* raw = nullptr;
  if (xrt_status_t st = take(f.CreateMemoryInfo("Cuda", kDeviceAllocator, device_index,
                                                kMemTypeDefault, &raw),
                             error, capacity);
      st != XRT_OK) {
    return st;
  }
  s->device_memory.reset(raw);
  s->memory = raw;
  s->on_default_stream = on_default_stream;
  if (!on_default_stream) return XRT_OK;
  return make_run_options(true, &s->run_options, error, capacity);
}

std::string provider_list(const SessionConfig& config) {
  std::string list;
  bool has_cpu = false;
  for (const ProviderRequest& p : config.providers) {
    list += (list.empty() ? "" : ",") + p.name;
    has_cpu = has_cpu || p.name == "CPUExecutionProvider";
  }
  // ORT runs what no listed provider takes on its CPU provider.
  if (!has_cpu) list += list.empty() ? "CPUExecutionProvider" : ",CPUExecutionProvider";
  return list;
}

void release_value(void* value) { api().ReleaseValue(static_cast<OrtValue*>(value)); }

}  // namespace

xrt_status_t session_create(const char* path, const void* data, size_t size,
                            xrt_device_kind_t device_kind, int32_t device_index,
                            const xrt_option_t* options, size_t num_options,
                            xrt_plugin_session_t** out, char* error, size_t capacity) {
  if (!load()) {
    return fail(XRT_ERROR_BACKEND, error, capacity, "%s", unavailable_reason().c_str());
  }
  if (!out || (path == nullptr) == (data == nullptr)) {
    return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                "onnxruntime: give either a model path or model bytes");
  }
  if (data && size == 0) {
    return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity, "onnxruntime: the model is empty");
  }
  SessionConfig config;
  if (xrt_status_t s = parse_options(options, num_options, device_kind, device_index, &config,
                                     error, capacity);
      s != XRT_OK) {
    return s;
  }
  for (ProviderRequest& provider : config.providers) {
    if (provider.name != "TensorrtExecutionProvider") continue;
    if (xrt_status_t s = add_engine_cache(&provider, path, data, size, device_index, error,
                                          capacity);
        s != XRT_OK) {
      return s;
    }
  }
  const OrtEnv* env = nullptr;
  if (xrt_status_t s = environment(&env, error, capacity); s != XRT_OK) return s;
  if (config.pool_allocator) {
    if (xrt_status_t s = share_pool_allocator(device_index, error, capacity); s != XRT_OK) {
      return s;
    }
  }
  auto session = std::make_unique<xrt_plugin_session>();
  Owned<OrtSessionOptions> session_options;
  if (xrt_status_t s = make_session_options(config, &session_options,
                                            &session->custom_op_libraries, error, capacity);
      s != XRT_OK) {
    return s;
  }

  session->memory = cpu_memory();
  session->providers = provider_list(config);
  if (device_kind == XRT_DEVICE_CUDA) {
    if (xrt_status_t s = prepare_cuda(session.get(), device_index, config.on_default_stream,
                                      error, capacity);
        s != XRT_OK) {
      return s;
    }
  }
  const Functions& f = api();
  OrtSession* raw = nullptr;
  OrtStatus* status = path ? f.CreateSession(env, path, session_options.get(), &raw)
                           : f.CreateSessionFromArray(env, data, size, session_options.get(), &raw);
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  session->session.reset(raw);
  session->profiling = config.profiling;
  if (xrt_status_t s = describe_all(session.get(), error, capacity); s != XRT_OK) return s;
  *out = session.release();
  return XRT_OK;
}

void session_destroy(xrt_plugin_session_t* session) { delete session; }

void session_collect_spans(xrt_plugin_session_t* session, const xrt_span_sink_t* sink) {
  if (!session->profiling) return;
  session->profiling = false;
  const Functions& f = api();
  char ignored[8];
  uint64_t start_ns = 0;
  OrtAllocator* allocator = nullptr;
  char* path = nullptr;
  if (take(f.SessionGetProfilingStartTimeNs(session->session.get(), &start_ns), ignored,
           sizeof ignored) != XRT_OK ||
      take(f.GetAllocatorWithDefaultOptions(&allocator), ignored, sizeof ignored) != XRT_OK ||
      take(f.SessionEndProfiling(session->session.get(), allocator, &path), ignored,
           sizeof ignored) != XRT_OK)
    return;
  const std::string file = path;
  take(f.AllocatorFree(allocator, path), ignored, sizeof ignored);
  forward_profile(file, static_cast<int64_t>(start_ns), sink);
  std::remove(file.c_str());  // our temp file, now in the runtime's trace
}

size_t session_input_count(const xrt_plugin_session_t* session) {
  return session->inputs.size();
}

size_t session_output_count(const xrt_plugin_session_t* session) {
  return session->outputs.size();
}

xrt_status_t session_input_info(const xrt_plugin_session_t* session, size_t index,
                                xrt_value_info_t* info) {
  return plugin::describe_value(session->inputs, index, info);
}

xrt_status_t session_output_info(const xrt_plugin_session_t* session, size_t index,
                                 xrt_value_info_t* info) {
  return plugin::describe_value(session->outputs, index, info);
}

const char* session_property(const xrt_plugin_session_t* session, const char* key) {
  if (std::strcmp(key, "providers") == 0) return session->providers.c_str();
  return nullptr;
}

namespace {

// Both run paths (tensors, value trees) take one input per model input.
xrt_status_t check_input_count(const xrt_plugin_session_t* session, size_t num_inputs,
                               char* error, size_t capacity) {
  if (num_inputs == session->inputs.size()) return XRT_OK;
  return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
              "onnxruntime: the model takes %zu inputs, got %zu", session->inputs.size(),
              num_inputs);
}

// Bytes of a contiguous tensor the runtime validated.
size_t byte_size(const xrt_kernel_tensor_t& t) {
  size_t bytes = dtypes::size_of(t.dtype);
  for (int32_t d = 0; d < t.ndim; ++d) bytes *= static_cast<size_t>(t.shape[d]);
  return bytes;
}

xrt_status_t run_with(xrt_plugin_session_t* session, const xrt_kernel_tensor_t* inputs,
                      size_t num_inputs, const size_t* output_indices, size_t num_outputs,
                      const xrt_session_outputs_t* outputs, const OrtRunOptions* run_options,
                      char* error, size_t capacity) {
  const Functions& f = api();
  if (xrt_status_t s = check_input_count(session, num_inputs, error, capacity)) return s;
  if (outputs->struct_size < offsetof(xrt_session_outputs_t, adopt_output) + sizeof(void*) ||
      !outputs->adopt_output) {
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "onnxruntime: this runtime cannot take outputs without a copy "
                "(plugin ABI 1.3 or later is needed)");
  }
  std::unique_ptr<KeptBinding> kept = session->idle_binding.take();
  if (!kept) {
    OrtIoBinding* raw_binding = nullptr;
    if (xrt_status_t s = take(f.CreateIoBinding(session->session.get(), &raw_binding), error,
                              capacity);
        s != XRT_OK) {
      return s;
    }
    kept = std::make_unique<KeptBinding>(Owned<OrtIoBinding>(raw_binding),
                                         session->inputs.size(), !session->device_memory);
  }
  OrtIoBinding* binding = kept->get();

  for (size_t i = 0; i < num_inputs; ++i) {
    const xrt_kernel_tensor_t& t = inputs[i];
    if (!dtypes::known(t.dtype)) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity, "onnxruntime: bad dtype");
    }
    if (xrt_status_t s = take(kept->bind_input(i, session->input_names[i], session->memory,
                                               t.data, byte_size(t), t.dtype, t.ndim, t.shape),
                              error, capacity);
        s != XRT_OK) {
      return s;
    }
  }
  SmallArray<const char*> names(num_outputs);
  SmallArray<bool> given(num_outputs);  // written by ORT into the caller's tensor
  size_t allocated = 0;                 // outputs ORT allocates, handed over after the run
  kept->begin_outputs(output_indices, num_outputs);
  for (size_t j = 0; j < num_outputs; ++j) {
    if (output_indices[j] >= session->outputs.size()) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: output index %zu out of range", output_indices[j]);
    }
    names[j] = session->output_names[output_indices[j]];
    for (size_t k = 0; k < j; ++k) {
      if (output_indices[k] == output_indices[j]) {
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                    "onnxruntime: output '%s' is asked for twice", names[j]);
      }
    }
    xrt_kernel_tensor_t t{};
    given[j] = plugin::given_output(outputs, j, &t);
    allocated += given[j] ? 0 : 1;
    OrtStatus* status =
        given[j] ? kept->bind_given_output(j, names[j], session->memory, t.data, byte_size(t),
                                           t.dtype, t.ndim, t.shape)
                 : kept->bind_allocated_output(j, names[j], session->memory);
    if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  }
  if (xrt_status_t s = take(f.RunWithBinding(session->session.get(), run_options, binding),
                            error, capacity);
      s != XRT_OK) {
    return s;
  }
  if (allocated == 0) {  // all written in place; the binding stays as it is
    session->idle_binding.give_back(std::move(kept));
    return XRT_OK;
  }

  OrtAllocator* allocator = nullptr;
  OrtValue** values = nullptr;
  size_t count = 0;
  OrtStatus* status = f.GetAllocatorWithDefaultOptions(&allocator);
  if (!status) status = f.GetBoundOutputValues(binding, allocator, &values, &count);
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  ValueList out(count);
  for (size_t j = 0; j < count; ++j) out[j] = values[j];
  if (xrt_status_t s = take(f.AllocatorFree(allocator, values), error, capacity); s != XRT_OK) {
    return s;
  }
  if (count != num_outputs) {
    return fail(XRT_ERROR_BACKEND, error, capacity,
                "onnxruntime: the run gave %zu outputs, %zu were asked for", count, num_outputs);
  }
  // The outputs are the caller's now: the kept binding lets go of them.
  kept->clear_outputs();
  session->idle_binding.give_back(std::move(kept));

  // Each output is handed over as it is: on the session's device, in memory
  // ORT allocated (from the runtime's pool on a GPU), released with its value.
  for (size_t j = 0; j < num_outputs; ++j) {
    if (given[j]) continue;
    OrtTensorTypeAndShapeInfo* raw_info = nullptr;
    if (xrt_status_t s = take(f.GetTensorTypeAndShape(out[j], &raw_info), error, capacity);
        s != XRT_OK) {
      return s;
    }
    Owned<OrtTensorTypeAndShapeInfo> info(raw_info);
    int element = 0;
    size_t ndim = 0;
    status = f.GetTensorElementType(raw_info, &element);
    if (!status) status = f.GetDimensionsCount(raw_info, &ndim);
    if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
    xrt_dtype_t dtype;
    if (!dtype_of(element, &dtype) || ndim > XRT_MAX_DIMS) {
      return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "onnxruntime: output '%s' came back as %s with %zu dimensions", names[j],
                  element_name(element), ndim);
    }
    std::array<int64_t, XRT_MAX_DIMS> shape{};
    void* data = nullptr;
    status = f.GetDimensions(raw_info, shape.data(), ndim);
    if (!status) status = f.GetTensorMutableData(out[j], &data);
    if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
    OrtValue* value = out[j];
    out[j] = nullptr;  // adopt_output releases it, whatever the outcome
    if (xrt_status_t s = outputs->adopt_output(outputs->context, j, dtype,
                                               static_cast<int32_t>(ndim), shape.data(), data,
                                               release_value, value);
        s != XRT_OK) {
      return fail(s, error, capacity, "onnxruntime: could not hand over output '%s'", names[j]);
    }
  }
  return XRT_OK;
}

}  // namespace

xrt_status_t session_run(xrt_plugin_session_t* session, const xrt_kernel_tensor_t* inputs,
                         size_t num_inputs, const size_t* output_indices, size_t num_outputs,
                         const xrt_session_outputs_t* outputs, char* error, size_t capacity) {
  return run_with(session, inputs, num_inputs, output_indices, num_outputs, outputs,
                  session->run_options.get(), error, capacity);
}

xrt_status_t session_run_stoppable(xrt_plugin_session_t* session,
                                   const xrt_kernel_tensor_t* inputs, size_t num_inputs,
                                   const size_t* output_indices, size_t num_outputs,
                                   const xrt_session_outputs_t* outputs,
                                   const xrt_run_stop_t* stop, char* error, size_t capacity) {
  if (!stop || stop->struct_size < offsetof(xrt_run_stop_t, unwatch) + sizeof(stop->unwatch)) {
    return session_run(session, inputs, num_inputs, output_indices, num_outputs, outputs, error,
                       capacity);
  }
  // Terminate is a flag of ORT's run options: each stoppable run has its own.
  Owned<OrtRunOptions> run_options;
  if (xrt_status_t s = make_run_options(session->on_default_stream, &run_options, error,
                                        capacity);
      s != XRT_OK) {
    return s;
  }
  stop->watch(stop->context, terminate_run, run_options.get());
  const xrt_status_t status = run_with(session, inputs, num_inputs, output_indices, num_outputs,
                                       outputs, run_options.get(), error, capacity);
  stop->unwatch(stop->context);
  return status;
}

xrt_status_t session_run_values(xrt_plugin_session_t* session,
                                const xrt_plugin_value_t* const* inputs, size_t num_inputs,
                                const size_t* output_indices, size_t num_outputs,
                                const xrt_session_outputs_t* outputs, const xrt_run_stop_t* stop,
                                char* error, size_t capacity) {
  const Functions& f = api();
  if (xrt_status_t s = check_input_count(session, num_inputs, error, capacity)) return s;
  if (outputs->struct_size < offsetof(xrt_session_outputs_t, put_value) + sizeof(void*) ||
      !outputs->put_value) {
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "onnxruntime: this runtime cannot take value outputs (plugin ABI 1.8 is needed)");
  }
  // Inputs as ORT values; an absent optional is left out, which ORT reads
  // as none.
  std::vector<Owned<OrtValue>> made;
  std::vector<const OrtValue*> fed;
  std::vector<const char*> fed_names;
  for (size_t i = 0; i < num_inputs; ++i) {
    if (inputs[i]->kind == XRT_VALUE_OPTIONAL && inputs[i]->num_items == 0) continue;
    OrtValue* value = nullptr;
    if (xrt_status_t s = value_to_ort(inputs[i], session->input_names[i], session->memory, &made,
                                      &value, error, capacity);
        s != XRT_OK) {
      return s;
    }
    fed.push_back(value);
    fed_names.push_back(session->input_names[i]);
  }
  std::vector<const char*> names(num_outputs);
  for (size_t j = 0; j < num_outputs; ++j) {
    if (output_indices[j] >= session->outputs.size()) {
      return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity,
                  "onnxruntime: output index %zu out of range", output_indices[j]);
    }
    names[j] = session->output_names[output_indices[j]];
  }
  Owned<OrtRunOptions> own_options;
  const OrtRunOptions* run_options = session->run_options.get();
  const bool stoppable =
      stop && stop->struct_size >= offsetof(xrt_run_stop_t, unwatch) + sizeof(stop->unwatch);
  if (stoppable) {
    if (xrt_status_t s = make_run_options(session->on_default_stream, &own_options, error,
                                          capacity);
        s != XRT_OK) {
      return s;
    }
    run_options = own_options.get();
    stop->watch(stop->context, terminate_run, own_options.get());
  }
  std::vector<OrtValue*> results(num_outputs, nullptr);
  OrtStatus* status = f.Run(session->session.get(), run_options, fed_names.data(), fed.data(),
                            fed.size(), names.data(), num_outputs, results.data());
  if (stoppable) stop->unwatch(stop->context);
  std::vector<Owned<OrtValue>> owned_results;
  for (OrtValue* r : results) owned_results.emplace_back(r);
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;

  for (size_t j = 0; j < num_outputs; ++j) {
    const ValueInfo& info = session->outputs[output_indices[j]];
    OutputTree tree;
    const xrt_plugin_value_t* value = nullptr;
    if (xrt_status_t s = tree.build(results[j], info.kind == XRT_VALUE_OPTIONAL, &value, error,
                                    capacity);
        s != XRT_OK) {
      return s;
    }
    if (xrt_status_t s = outputs->put_value(outputs->context, j, value); s != XRT_OK) {
      return fail(s, error, capacity, "onnxruntime: could not hand over output '%s'", names[j]);
    }
  }
  return XRT_OK;
}

}  // namespace xrt::ort
