#include "session.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <optional>

#include "auto_select.h"
#include "dtype.h"
#include "error.h"
#include "file_write.h"
#include "plugin_result.h"
#include "profiler.h"
#include "runtime.h"
#include "session_values.h"
#include "struct_access.h"
#include "tensor.h"

namespace xrt {

namespace {

std::string value_names(const std::vector<xrt_value_info_t>& values) {
  std::string names;
  for (const auto& v : values) names += (names.empty() ? "" : ", ") + std::string(v.name);
  return names.empty() ? "none" : names;
}

// "(batch, seq, 64)": the model's view of a shape.
std::string model_shape(const xrt_value_info_t& v) {
  std::string s = "(";
  for (int32_t i = 0; i < v.ndim; ++i) {
    if (i) s += ", ";
    if (v.shape[i] >= 0)
      s += std::to_string(v.shape[i]);
    else
      s += v.dim_names && v.dim_names[i] && *v.dim_names[i] ? v.dim_names[i] : "?";
  }
  return s + (v.ndim == 1 ? ",)" : ")");
}

// A session call's outcome: the plugin's status and message, read
// defensively; without a message, `what` the backend failed to do.
template <size_t N>
void check_status(xrt_status_t returned, char (&error)[N], const char* backend, const char* what) {
  const xrt_status_t status = plugin_status(returned);
  if (status == XRT_OK) return;
  const std::string fallback = std::string("backend '") + backend + "' " + what;
  fail(status, plugin_message(error, N, returned, fallback.c_str()));
}

// Plugins before ABI 1.8 describe tensors only: their kind stays TENSOR
// and the runtime names the type.
std::vector<xrt_value_info_t> describe(xrt_session* s, bool inputs) {
  const size_t count = inputs ? s->api->input_count(s->impl) : s->api->output_count(s->impl);
  std::vector<xrt_value_info_t> values(count);
  for (size_t i = 0; i < count; ++i) {
    values[i] = xrt_value_info_t{};
    values[i].struct_size = sizeof(xrt_value_info_t);
    const xrt_status_t status = inputs ? s->api->input_info(s->impl, i, &values[i])
                                       : s->api->output_info(s->impl, i, &values[i]);
    xrt_value_info_t& v = values[i];
    const bool tensor = v.kind == XRT_VALUE_TENSOR;
    const bool known = static_cast<int32_t>(v.kind) >= XRT_VALUE_TENSOR &&
                       static_cast<int32_t>(v.kind) <= XRT_VALUE_OPTIONAL;
    if (status != XRT_OK || !v.name || !known || (tensor && !dtype_valid(v.dtype)) ||
        (!tensor && !v.type) || v.ndim < 0 || v.ndim > XRT_MAX_DIMS || (v.ndim > 0 && !v.shape))
      fail(XRT_ERROR_BACKEND, "backend '", s->backend, "' could not describe ",
           inputs ? "input " : "output ", i);
    if (tensor && !v.type) v.type = s->type_names.emplace_back(tensor_type_name(v.dtype)).c_str();
    if (v.kind == XRT_VALUE_SEQUENCE || v.kind == XRT_VALUE_MAP || v.kind == XRT_VALUE_OPTIONAL)
      v.ndim = 0;
  }
  return values;
}

// Runs that carry tensors only refuse models whose values are other kinds.
void require_tensor(const xrt_value_info_t& v, const char* role) {
  if (v.kind != XRT_VALUE_TENSOR)
    fail(XRT_ERROR_UNSUPPORTED, role, " '", v.name, "' has type ", v.type,
         "; this run takes and gives tensors only (run it with xrt_session_run_values, "
         "or InferenceSession.run in Python)");
}

// A backend without run_values runs tensors only.
void require_backend_values(const xrt_session* s, const xrt_value_info_t& v, const char* role) {
  if (v.kind != XRT_VALUE_TENSOR)
    fail(XRT_ERROR_UNSUPPORTED, "backend '", s->backend, "' cannot run ", role, " '", v.name,
         "' of type ", v.type, ": it takes and gives tensors only");
}

// Where `name` is among the model's inputs, or InvalidArgument listing them.
size_t input_index(const xrt_session* s, const char* name) {
  size_t k = 0;
  while (k < s->inputs.size() && std::strcmp(s->inputs[k].name, name) != 0) ++k;
  XRT_REQUIRE(k < s->inputs.size(), "unknown input '", name, "' (model inputs: ",
              value_names(s->inputs), ")");
  return k;
}

// The model output indices a call asks for (output_names NULL: all).
std::pmr::vector<size_t> wanted_outputs(const xrt_session* s, const char* const* output_names,
                                        size_t num_outputs, std::pmr::memory_resource* memory) {
  std::pmr::vector<size_t> wanted(num_outputs, memory);
  if (!output_names) {
    XRT_REQUIRE(num_outputs == s->outputs.size(), "asked for all ", s->outputs.size(),
                " outputs with room for ", num_outputs);
    for (size_t i = 0; i < num_outputs; ++i) wanted[i] = i;
    return wanted;
  }
  for (size_t i = 0; i < num_outputs; ++i) {
    XRT_REQUIRE(output_names[i] != nullptr, "output name #", i, " is NULL");
    size_t k = 0;
    while (k < s->outputs.size() && std::strcmp(s->outputs[k].name, output_names[i]) != 0) ++k;
    XRT_REQUIRE(k < s->outputs.size(), "unknown output '", output_names[i], "' (model outputs: ",
                value_names(s->outputs), ")");
    wanted[i] = k;
  }
  return wanted;
}

void check_dims(const xrt_value_info_t& want, int32_t ndim, const int64_t* shape) {
  XRT_REQUIRE(ndim == want.ndim, "input '", want.name, "' has shape ", shape_string(ndim, shape),
              ", the model expects rank ", want.ndim, " ", model_shape(want));
  for (int32_t d = 0; d < want.ndim; ++d)
    XRT_REQUIRE(want.shape[d] < 0 || want.shape[d] == shape[d], "input '", want.name,
                "' has shape ", shape_string(ndim, shape), ", the model expects ",
                model_shape(want), " (dimension ", d, " differs)");
}

void check_input(const xrt_value_info_t& want, const xrt_tensor* t, const xrt_device* device) {
  XRT_REQUIRE(t != nullptr, "input '", want.name, "' is NULL");
  XRT_REQUIRE(t->device == device, "input '", want.name, "' is on ", t->device->name,
              ", the session runs on ", device->name);
  XRT_REQUIRE(t->dtype == want.dtype, "input '", want.name, "' has dtype ", dtype_name(t->dtype),
              ", the model expects ", dtype_name(want.dtype));
  check_dims(want, t->ndim, t->shape);
}

// A tensor the caller gave for output `want` must be one the run can
// write into as it is.
void check_given_output(const xrt_value_info_t& want, const xrt_tensor* t,
                        const xrt_device* device) {
  XRT_REQUIRE(t->device == device, "output '", want.name, "' was given on ", t->device->name,
              ", the session runs on ", device->name);
  XRT_REQUIRE(t->dtype == want.dtype, "output '", want.name, "' was given as ",
              dtype_name(t->dtype), ", the model gives ", dtype_name(want.dtype));
  bool fits = t->ndim == want.ndim;
  for (int32_t d = 0; fits && d < want.ndim; ++d)
    fits = want.shape[d] < 0 || want.shape[d] == t->shape[d];
  XRT_REQUIRE(fits, "output '", want.name, "' was given with shape ",
              shape_string(t->ndim, t->shape), ", the model gives ", model_shape(want));
  XRT_REQUIRE(t->contiguous, "output '", want.name, "' was given with strides ",
              shape_string(t->ndim, t->strides), ", the run writes contiguous tensors");
  XRT_REQUIRE(!t->read_only, "output '", want.name, "' was given read-only");
}

// Where a backend's outputs go: tensors from the device's pool, released
// unless the run succeeds. given[i] is the caller's tensor for output i,
// or NULL.
struct OutputSink {
  xrt_device* device;
  std::pmr::vector<TensorRef> tensors;
  std::pmr::vector<xrt_tensor*> given;
};

int32_t given_output(void* context, size_t index, xrt_kernel_tensor_t* tensor) noexcept {
  const auto* sink = static_cast<const OutputSink*>(context);
  if (index >= sink->given.size() || !sink->given[index] || !tensor) return 0;
  const xrt_tensor* t = sink->given[index];
  *tensor = xrt_kernel_tensor_t{t->data,  t->dtype,         t->ndim,        t->shape,
                                t->strides, t->device->kind, t->device->index};
  return 1;
}

xrt_status_t alloc_output(void* context, size_t index, xrt_dtype_t dtype, int32_t ndim,
                          const int64_t* shape, void** data) noexcept {
  auto* sink = static_cast<OutputSink*>(context);
  try {
    XRT_REQUIRE(index < sink->tensors.size(), "output index ", index, " is out of range");
    sink->tensors[index] =
        TensorRef(tensor_create(sink->device, checked_dtype(dtype, "alloc_output"), ndim, shape));
    *data = sink->tensors[index]->data;
    return XRT_OK;
  } catch (const Error& e) {
    return e.status();
  } catch (...) {
    return XRT_ERROR_OUT_OF_MEMORY;
  }
}

// Memory a backend handed over: given back through its release callback.
struct AdoptedMemory {
  void (*release)(void*);
  void* context;
};

void release_adopted(void*, void* context) {
  auto* adopted = static_cast<AdoptedMemory*>(context);
  adopted->release(adopted->context);
  delete adopted;
}

xrt_status_t adopt_output(void* context, size_t index, xrt_dtype_t dtype, int32_t ndim,
                          const int64_t* shape, void* data, void (*release)(void*),
                          void* release_context) noexcept {
  auto* sink = static_cast<OutputSink*>(context);
  xrt_status_t status = XRT_ERROR_OUT_OF_MEMORY;
  try {
    XRT_REQUIRE(index < sink->tensors.size(), "output index ", index, " is out of range");
    const xrt_dtype_t checked = checked_dtype(dtype, "adopt_output");
    auto adopted = std::make_unique<AdoptedMemory>(AdoptedMemory{release, release_context});
    sink->tensors[index] = TensorRef(tensor_wrap(sink->device, checked, ndim, shape, nullptr, data,
                                                 release_adopted, adopted.get()));
    adopted.release();  // the tensor's deleter owns it now
    return XRT_OK;
  } catch (const Error& e) {
    status = e.status();
  } catch (...) {
  }
  release(release_context);  // the tensor was not made, so nothing else will
  return status;
}

// [begin, end) of the bytes a contiguous tensor or kernel view covers.
struct ByteRange {
  uintptr_t begin, end;
  bool overlaps(const ByteRange& other) const {
    return begin < other.end && other.begin < end;
  }
};

ByteRange bytes_of(const xrt_tensor* t) {
  const auto begin = reinterpret_cast<uintptr_t>(t->data);
  return {begin, begin + tensor_nbytes(t)};
}

// A backend may hand back an input's own memory as an output (a model whose
// output is its input, an elided Identity). Such an output would share the
// caller's buffer without keeping it alive and ignore its read-only flag, so
// it becomes a copy; so does an output sharing memory with an earlier one.
// `bound` are the tensors whose memory the backend was given (inputs and
// the caller's outputs).
void unalias_outputs(const std::pmr::vector<const xrt_tensor*>& bound, OutputSink& sink) {
  std::pmr::vector<ByteRange> taken(bound.get_allocator());
  taken.reserve(bound.size() + sink.tensors.size());
  for (const xrt_tensor* in : bound) taken.push_back(bytes_of(in));
  for (TensorRef& out : sink.tensors) {
    if (!out.get()) continue;  // written into the caller's tensor
    const ByteRange range = bytes_of(out.get());
    bool shared = false;
    for (const ByteRange& other : taken) shared = shared || range.overlaps(other);
    if (shared) {
      TensorRef copy(tensor_create(sink.device, out->dtype, out->ndim, out->shape));
      tensor_copy(copy.get(), out.get());
      out = std::move(copy);
    }
    taken.push_back(bytes_of(out.get()));
  }
}

}  // namespace

xrt_session* session_create(const char* path, const void* data, size_t size, const char* backend,
                            xrt_device* device, const xrt_option_t* options, size_t num_options) {
  XRT_REQUIRE(device != nullptr, "device is NULL");
  XRT_REQUIRE(!(path && data), "give a model path or model bytes, not both");
  XRT_REQUIRE(path || data || size, "no model: both the path and the bytes are NULL");
  XRT_REQUIRE(path || size, "the model bytes are empty");
  XRT_REQUIRE(path || data, "model bytes are NULL with size ", size);
  XRT_REQUIRE(num_options == 0 || options != nullptr, "options is NULL");
  for (size_t i = 0; i < num_options; ++i)
    XRT_REQUIRE(options[i].key && options[i].value, "option #", i, " has a NULL key or value");

  if (!backend || std::strcmp(backend, "auto") == 0)
    return auto_session_create(path, data, size, device, options, num_options);
  for (size_t i = 0; i < num_options; ++i)
    XRT_REQUIRE(std::strcmp(options[i].key, kAutoPolicyOption) != 0, "option '",
                kAutoPolicyOption, "' chooses among backends: it needs backend 'auto', not '",
                backend, "'");
  return session_create_on(Runtime::get().session_backend(backend), path, data, size,
                           device, options, num_options);
}

xrt_session* session_create_on(const Backend& b, const char* path, const void* data, size_t size,
                               xrt_device* device, const xrt_option_t* options,
                               size_t num_options) {
  ProfileSpan span("session", "session.create");
  span.arg("backend", b.name);
  char error[1024] = {0};
  xrt_plugin_session_t* impl = nullptr;
  const xrt_session_api_t* api = b.sessions;
  xrt_status_t created;
  if (XRT_HAS_FIELD(api, create_on) && api->create_on) {
    created = api->create_on(path, data, size, device->kind_name.c_str(), device->index, options,
                             num_options, &impl, error, sizeof error);
  } else if (device->kind == XRT_DEVICE_CPU || device->kind == XRT_DEVICE_CUDA) {
    created = api->create(path, data, size, device->kind, device->index, options, num_options,
                          &impl, error, sizeof error);
  } else {
    fail(XRT_ERROR_UNSUPPORTED, "backend '", b.name, "' runs models on cpu and cuda devices only, "
         "not on ", device->name, " (its plugin predates device kinds by name, ABI 1.6)");
  }
  check_status(created, error, b.name.c_str(), "could not create the session and gave no message");
  if (!impl)
    fail(XRT_ERROR_BACKEND, "backend '", b.name, "' reported success creating a session but "
         "handed back none");
  auto* session = new xrt_session();
  session->device = device;
  session->backend = b.name.c_str();
  session->api = b.sessions;
  session->impl = impl;
  try {
    session->inputs = describe(session, true);
    session->outputs = describe(session, false);
  } catch (...) {
    session_release(session);
    throw;
  }
  return session;
}

namespace {

// A backend span, its start (wall-clock) left in start_us for the caller
// to place on its trace's clock.
Span backend_span(const char* backend, const char* name, const char* category,
                  int64_t start_unix_ns, int64_t duration_ns, const char* const* arg_keys,
                  const char* const* arg_values, size_t num_args) {
  Span span;
  span.name = name ? name : "";
  span.category = category ? category : "backend";
  span.thread = 0;  // the backend's own lane in the trace
  span.start_us = static_cast<double>(start_unix_ns) / 1000.0;
  span.duration_us = static_cast<double>(duration_ns) / 1000.0;
  span.args.emplace_back("backend", backend);
  for (size_t i = 0; i < num_args; ++i)
    if (arg_keys[i] && arg_values[i]) span.args.emplace_back(arg_keys[i], arg_values[i]);
  return span;
}

// Into the profiler: the trace counts from its steady-clock origin.
void record_backend_span(void* context, const char* name, const char* category,
                         int64_t start_unix_ns, int64_t duration_ns, const char* const* arg_keys,
                         const char* const* arg_values, size_t num_args) {
  try {
    Profiler& profiler = Profiler::get();
    const auto wall_now = std::chrono::system_clock::now().time_since_epoch();
    const auto steady_now = std::chrono::steady_clock::now();
    const auto age = std::chrono::duration_cast<std::chrono::nanoseconds>(wall_now).count() -
                     start_unix_ns;
    const auto start = steady_now - std::chrono::nanoseconds(age);
    Span span = backend_span(static_cast<const char*>(context), name, category, start_unix_ns,
                             duration_ns, arg_keys, arg_values, num_args);
    span.start_us = std::chrono::duration<double, std::micro>(start - profiler.origin()).count();
    profiler.record(std::move(span));
  } catch (...) {
    // A span that cannot be stored is dropped; the session still closes.
  }
}

struct SpanList {
  const char* backend;
  std::vector<Span> spans;
  bool failed = false;
};

void keep_backend_span(void* context, const char* name, const char* category,
                       int64_t start_unix_ns, int64_t duration_ns, const char* const* arg_keys,
                       const char* const* arg_values, size_t num_args) {
  auto* list = static_cast<SpanList*>(context);
  try {
    list->spans.push_back(backend_span(list->backend, name, category, start_unix_ns,
                                       duration_ns, arg_keys, arg_values, num_args));
  } catch (...) {
    list->failed = true;  // reported once collection ends: no exception crosses the plugin
  }
}

// The backend's spans, handed over once per session.
bool take_spans(xrt_session* session, const xrt_span_sink_t& sink) {
  const xrt_session_api_t* api = session->api;
  if (!XRT_HAS_FIELD(api, collect_spans) || !api->collect_spans) return false;
  if (session->spans_taken.exchange(true)) return false;
  api->collect_spans(session->impl, &sink);
  return true;
}

void stop_if_terminated(xrt_run_options* options) {
  if (run_options_terminated(options))
    fail(XRT_ERROR_BACKEND, "the run was stopped: terminate is set on its run options");
}

}  // namespace

void session_release(xrt_session* session) {
  if (!session || session->refcount.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (Profiler::get().enabled()) {
    const xrt_span_sink_t sink{sizeof(xrt_span_sink_t), const_cast<char*>(session->backend),
                               record_backend_span};
    take_spans(session, sink);
  }
  session->api->destroy(session->impl);
  delete session;
}

void session_end_profiling(xrt_session* session, const char* path) {
  SpanList list{session->backend, {}};
  const xrt_span_sink_t sink{sizeof(xrt_span_sink_t), &list, keep_backend_span};
  XRT_REQUIRE(take_spans(session, sink), "the session's profile was already ended, or backend '",
              session->backend, "' cannot profile");
  if (list.failed) fail(XRT_ERROR_OUT_OF_MEMORY, "the session's profile did not fit in memory");
  double origin = 0;
  for (size_t i = 0; i < list.spans.size(); ++i)
    origin = i ? std::min(origin, list.spans[i].start_us) : list.spans[i].start_us;
  for (Span& span : list.spans) span.start_us -= origin;
  write_file_atomically(path, chrome_trace_json(list.spans));
}

const char* session_property(const xrt_session* s, const char* key) {
  if (std::strcmp(key, "selection") == 0 && !s->selection.empty()) return s->selection.c_str();
  const xrt_session_api_t* api = s->api;
  const char* value = nullptr;
  if (XRT_HAS_FIELD(api, property) && api->property)
    value = api->property(s->impl, key);
  if (!value)
    fail(XRT_ERROR_NOT_FOUND, "backend '", s->backend, "' has no session property '", key, "'");
  return value;
}

namespace {

// A backend that produced an output the caller gave a tensor for: copied
// in, once its shape is known to be the given one.
void copy_into_given(const xrt_value_info_t& want, xrt_tensor* given, const xrt_tensor* produced) {
  XRT_REQUIRE(produced->dtype == given->dtype && produced->ndim == given->ndim &&
                  std::equal(given->shape, given->shape + given->ndim, produced->shape),
              "output '", want.name, "' was given with shape ",
              shape_string(given->ndim, given->shape), ", the run gave ",
              dtype_name(produced->dtype), " ", shape_string(produced->ndim, produced->shape));
  tensor_copy(given, produced);
}

// The caller's tensors for a run_into's outputs (given[i] NULL where the
// run makes one), checked before the backend sees them; each is added to
// `bound`, the memory no output may share.
void take_given_outputs(const xrt_session* s, const std::pmr::vector<size_t>& wanted,
                        xrt_tensor_t* const* outputs, std::pmr::vector<xrt_tensor*>& given,
                        std::pmr::vector<const xrt_tensor*>& bound) {
  const size_t num_inputs = bound.size();
  for (size_t i = 0; i < wanted.size(); ++i) {
    xrt_tensor* t = outputs[i];
    if (!t) continue;
    const xrt_value_info_t& want = s->outputs[wanted[i]];
    check_given_output(want, t, s->device);
    const ByteRange range = bytes_of(t);
    for (size_t k = 0; k < num_inputs; ++k)
      XRT_REQUIRE(!range.overlaps(bytes_of(bound[k])), "output '", want.name,
                  "' was given memory that input '", s->inputs[k].name, "' uses");
    for (size_t j = 0; j < i; ++j)
      XRT_REQUIRE(!given[j] || !range.overlaps(bytes_of(given[j])), "output '", want.name,
                  "' was given memory that output '", s->outputs[wanted[j]].name, "' uses");
    given[i] = t;
    bound.push_back(t);
  }
}

}  // namespace

void session_run(xrt_session* s, xrt_run_options* options, const char* const* input_names,
                 const xrt_tensor_t* const* inputs, size_t num_inputs,
                 const char* const* output_names, size_t num_outputs, xrt_tensor_t** outputs,
                 OutputsGiven outputs_given) {
  XRT_REQUIRE(num_inputs == 0 || (input_names && inputs), "input_names or inputs is NULL");
  XRT_REQUIRE(num_outputs == 0 || outputs, "outputs is NULL");
  const size_t model_inputs = s->inputs.size();
  // A run's lists come from the stack for the usual handful of values: a
  // tiny model's run is a few microseconds, and each heap list cost a tenth
  // of one.
  std::array<std::byte, 2048> stack;
  std::pmr::monotonic_buffer_resource memory(stack.data(), stack.size());
  std::pmr::vector<const xrt_tensor*> ordered(model_inputs, nullptr, &memory);
  for (size_t i = 0; i < num_inputs; ++i) {
    XRT_REQUIRE(input_names[i] != nullptr, "input name #", i, " is NULL");
    const size_t k = input_index(s, input_names[i]);
    XRT_REQUIRE(ordered[k] == nullptr, "input '", input_names[i], "' is given twice");
    require_tensor(s->inputs[k], "input");
    check_input(s->inputs[k], inputs[i], s->device);
    ordered[k] = inputs[i];
  }
  for (size_t k = 0; k < model_inputs; ++k)
    XRT_REQUIRE(ordered[k] != nullptr, "missing input '", s->inputs[k].name, "' (model inputs: ",
                value_names(s->inputs), ")");

  const std::pmr::vector<size_t> wanted = wanted_outputs(s, output_names, num_outputs, &memory);
  for (size_t k : wanted) require_tensor(s->outputs[k], "output");

  std::pmr::vector<TensorRef> contiguous(model_inputs, &memory);
  std::pmr::vector<xrt_kernel_tensor_t> views(model_inputs, &memory);
  for (size_t k = 0; k < model_inputs; ++k) {
    const xrt_tensor* t = ordered[k];
    if (!t->contiguous) {
      contiguous[k] = TensorRef(tensor_contiguous(t));
      t = contiguous[k].get();
      ordered[k] = t;  // what the backend reads, for unalias_outputs
    }
    views[k] = xrt_kernel_tensor_t{t->data,  t->dtype,         t->ndim,        t->shape,
                                   t->strides, t->device->kind, t->device->index};
  }

  OutputSink sink{s->device, std::pmr::vector<TensorRef>(num_outputs, &memory),
                  std::pmr::vector<xrt_tensor*>(num_outputs, nullptr, &memory)};
  if (outputs_given == OutputsGiven::kSome)
    take_given_outputs(s, wanted, outputs, sink.given, ordered);
  const xrt_session_outputs_t sink_api{sizeof(xrt_session_outputs_t), &sink, alloc_output,
                                       adopt_output, nullptr, given_output};
  char error[1024] = {0};
  {
    ProfileSpan span("session", "session.run");
    span.arg("backend", s->backend);
    xrt_status_t status;
    if (options) {
      stop_if_terminated(options);
      const RunStop stop(options);
      status = XRT_HAS_FIELD(s->api, run_stoppable) && s->api->run_stoppable
                   ? s->api->run_stoppable(s->impl, views.data(), model_inputs, wanted.data(),
                                           num_outputs, &sink_api, stop.get(), error,
                                           sizeof error)
                   : s->api->run(s->impl, views.data(), model_inputs, wanted.data(), num_outputs,
                                 &sink_api, error, sizeof error);
      stop_if_terminated(options);  // the backend's own error says less
    } else {
      status = s->api->run(s->impl, views.data(), model_inputs, wanted.data(), num_outputs,
                           &sink_api, error, sizeof error);
    }
    check_status(status, error, s->backend, "failed to run the session without a message");
  }
  for (size_t i = 0; i < num_outputs; ++i) {
    const xrt_tensor* produced = sink.tensors[i].get();
    if (sink.given[i] && produced) {
      copy_into_given(s->outputs[wanted[i]], sink.given[i], produced);
      sink.tensors[i] = TensorRef();
    } else if (!sink.given[i] && !produced) {
      fail(XRT_ERROR_BACKEND, "backend '", s->backend, "' produced no value for output '",
           s->outputs[wanted[i]].name, "'");
    }
  }
  unalias_outputs(ordered, sink);
  for (size_t i = 0; i < num_outputs; ++i)
    if (!sink.given[i]) outputs[i] = sink.tensors[i].release();
}

namespace {

// Where a backend's value trees go: copied into caller-owned trees as they
// arrive, dropped unless the run succeeds.
struct ValueSink {
  xrt_session* session;
  const std::pmr::vector<size_t>* wanted;
  std::vector<ValuePtr> values;
  std::string error;  // why a tree was refused: said by the run's error
  xrt_status_t status = XRT_OK;
};

xrt_status_t put_value(void* context, size_t index, const xrt_plugin_value_t* value) noexcept {
  auto* sink = static_cast<ValueSink*>(context);
  try {
    XRT_REQUIRE(index < sink->values.size(), "output index ", index, " is out of range");
    const xrt_session* s = sink->session;
    sink->values[index] = ValuePtr(value_from_plugin(
        value, s->device, s->backend, s->outputs[(*sink->wanted)[index]].name));
    return XRT_OK;
  } catch (const Error& e) {
    sink->error = e.what();
    sink->status = e.status();
  } catch (...) {
    sink->error = "out of memory copying an output";
    sink->status = XRT_ERROR_OUT_OF_MEMORY;
  }
  return sink->status;
}

xrt_status_t no_tensor_outputs(void*, size_t, xrt_dtype_t, int32_t, const int64_t*,
                               void**) noexcept {
  return XRT_ERROR_INVALID_ARGUMENT;
}

xrt_status_t no_adopted_outputs(void*, size_t, xrt_dtype_t, int32_t, const int64_t*, void*,
                                void (*release)(void*), void* release_context) noexcept {
  release(release_context);
  return XRT_ERROR_INVALID_ARGUMENT;
}

}  // namespace

void session_run_values(xrt_session* s, xrt_run_options* options, const char* const* input_names,
                        const xrt_value_t* const* inputs, size_t num_inputs,
                        const char* const* output_names, size_t num_outputs,
                        xrt_value_t** outputs) {
  XRT_REQUIRE(num_inputs == 0 || (input_names && inputs), "input_names or inputs is NULL");
  XRT_REQUIRE(num_outputs == 0 || outputs, "outputs is NULL");
  const size_t model_inputs = s->inputs.size();
  std::vector<const xrt_plugin_value_t*> ordered(model_inputs, nullptr);
  InputValues views;
  for (size_t i = 0; i < num_inputs; ++i) {
    XRT_REQUIRE(input_names[i] != nullptr, "input name #", i, " is NULL");
    const size_t k = input_index(s, input_names[i]);
    XRT_REQUIRE(ordered[k] == nullptr, "input '", input_names[i], "' is given twice");
    const xrt_value_info_t& want = s->inputs[k];
    std::string type;
    const xrt_plugin_value_t* view = views.add(inputs[i], s->device, want.name, &type);
    XRT_REQUIRE(type_fits(type, want.type), "input '", want.name, "' is ", type,
                ", the model expects ", want.type);
    if (view->kind == XRT_VALUE_TENSOR || view->kind == XRT_VALUE_STRINGS)
      check_dims(want, view->tensor.ndim, view->tensor.shape);
    ordered[k] = view;
  }
  for (size_t k = 0; k < model_inputs; ++k)
    XRT_REQUIRE(ordered[k] != nullptr, "missing input '", s->inputs[k].name, "' (model inputs: ",
                value_names(s->inputs), ")");
  const std::pmr::vector<size_t> wanted =
      wanted_outputs(s, output_names, num_outputs, std::pmr::get_default_resource());
  if (!XRT_HAS_FIELD(s->api, run_values) || !s->api->run_values) {
    for (size_t k = 0; k < model_inputs; ++k) require_backend_values(s, s->inputs[k], "input");
    for (size_t k : wanted) require_backend_values(s, s->outputs[k], "output");
    fail(XRT_ERROR_UNSUPPORTED, "backend '", s->backend,
         "' runs tensors only; use xrt_session_run");
  }

  ValueSink sink{s, &wanted, std::vector<ValuePtr>(num_outputs), {}, XRT_OK};
  const xrt_session_outputs_t sink_api{sizeof(xrt_session_outputs_t), &sink, no_tensor_outputs,
                                       no_adopted_outputs, put_value, nullptr};
  char error[1024] = {0};
  {
    ProfileSpan span("session", "session.run");
    span.arg("backend", s->backend);
    xrt_status_t status;
    std::optional<RunStop> stop;
    if (options) {
      stop_if_terminated(options);
      stop.emplace(options);
    }
    status = s->api->run_values(s->impl, ordered.data(), model_inputs, wanted.data(), num_outputs,
                                &sink_api, stop ? stop->get() : nullptr, error, sizeof error);
    if (options) stop_if_terminated(options);
    if (status != XRT_OK && sink.status != XRT_OK) fail(sink.status, sink.error);
    check_status(status, error, s->backend, "failed to run the session without a message");
  }
  for (size_t i = 0; i < num_outputs; ++i)
    if (!sink.values[i])
      fail(XRT_ERROR_BACKEND, "backend '", s->backend, "' produced no value for output '",
           s->outputs[wanted[i]].name, "'");
  for (size_t i = 0; i < num_outputs; ++i) outputs[i] = sink.values[i].release();
}

}  // namespace xrt
