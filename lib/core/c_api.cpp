// The extern "C" edge: every entry point catches every exception, turns it
// into a status and leaves the message in a thread-local for xrt_last_error.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>
#include <string>

#include "dispatcher.h"
#include "dlpack.h"
#include "dtype.h"
#include "error.h"
#include "profiler.h"
#include "runtime.h"
#include "session.h"
#include "stream.h"
#include "tensor.h"
#include "xpuruntime/xpuruntime.h"

using xrt::fail;
using xrt::require;
using xrt::Runtime;

namespace {

thread_local std::string last_error;

xrt_status_t set_error(xrt_status_t status, const char* message) noexcept {
  try {
    last_error = message;
  } catch (...) {
    // Keep the status even if the message cannot be stored.
  }
  return status;
}

template <typename Body>
xrt_status_t guarded(Body&& body) noexcept {
  try {
    body();
    return XRT_OK;
  } catch (const xrt::Error& e) {
    return set_error(e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return set_error(XRT_ERROR_OUT_OF_MEMORY, "out of host memory");
  } catch (const std::exception& e) {
    return set_error(XRT_ERROR_INTERNAL, e.what());
  } catch (...) {
    return set_error(XRT_ERROR_INTERNAL, "unknown internal error");
  }
}

template <typename T>
void require_out(T* out, const char* name) {
  require(out != nullptr, name, " is NULL");
}

xrt_device* require_device(xrt_device_t* device) {
  require(device != nullptr, "device is NULL");
  return device;
}

}  // namespace

extern "C" {

const char* xrt_version(void) { return XRT_VERSION_STRING; }

const char* xrt_last_error(void) { return last_error.c_str(); }

const char* xrt_status_name(xrt_status_t status) {
  switch (status) {
    case XRT_OK: return "XRT_OK";
    case XRT_ERROR_INVALID_ARGUMENT: return "XRT_ERROR_INVALID_ARGUMENT";
    case XRT_ERROR_OUT_OF_MEMORY: return "XRT_ERROR_OUT_OF_MEMORY";
    case XRT_ERROR_NOT_FOUND: return "XRT_ERROR_NOT_FOUND";
    case XRT_ERROR_UNSUPPORTED: return "XRT_ERROR_UNSUPPORTED";
    case XRT_ERROR_BACKEND: return "XRT_ERROR_BACKEND";
    case XRT_ERROR_IO: return "XRT_ERROR_IO";
    case XRT_ERROR_INTERNAL: return "XRT_ERROR_INTERNAL";
  }
  return "XRT_ERROR_UNKNOWN";
}

/* Data types ------------------------------------------------------------- */

xrt_status_t xrt_dtype_size(xrt_dtype_t dtype, size_t* size) {
  return guarded([&] {
    require_out(size, "size");
    xrt::check_dtype(dtype, "xrt_dtype_size");
    *size = xrt::dtype_size(dtype);
  });
}

xrt_status_t xrt_dtype_name(xrt_dtype_t dtype, const char** name) {
  return guarded([&] {
    require_out(name, "name");
    xrt::check_dtype(dtype, "xrt_dtype_name");
    *name = xrt::dtype_name(dtype);
  });
}

/* Devices ---------------------------------------------------------------- */

xrt_status_t xrt_device_count(int32_t* count) {
  return guarded([&] {
    require_out(count, "count");
    *count = static_cast<int32_t>(Runtime::get().devices().size());
  });
}

xrt_status_t xrt_device_get(int32_t ordinal, xrt_device_t** out) {
  return guarded([&] {
    require_out(out, "out");
    const auto& devices = Runtime::get().devices();
    if (ordinal < 0 || static_cast<size_t>(ordinal) >= devices.size())
      fail(XRT_ERROR_NOT_FOUND, "device ordinal ", ordinal, " is out of range (", devices.size(),
           " devices)");
    *out = devices[static_cast<size_t>(ordinal)].get();
  });
}

xrt_status_t xrt_device_by_name(const char* name, xrt_device_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = Runtime::get().device_by_name(name);
  });
}

xrt_status_t xrt_device_info(const xrt_device_t* device, xrt_device_info_t* info) {
  return guarded([&] {
    require(device != nullptr, "device is NULL");
    require_out(info, "info");
    require(info->struct_size >= sizeof(xrt_device_info_t), "info->struct_size is ",
            info->struct_size, ", expected at least ", sizeof(xrt_device_info_t));
    info->kind = device->kind;
    info->index = device->index;
    info->name = device->name.c_str();
    info->description = device->description.c_str();
    info->total_memory = device->total_memory;
    info->compute_units = device->compute_units;
    info->compute_capability = device->compute_capability;
  });
}

/* Streams and events ----------------------------------------------------- */

xrt_status_t xrt_stream_create(xrt_device_t* device, xrt_stream_t** out) {
  return guarded([&] {
    require_out(out, "out");
    auto* stream = new xrt_stream();
    stream->device = require_device(device);
    *out = stream;
  });
}

xrt_status_t xrt_stream_retain(xrt_stream_t* stream) {
  return guarded([&] {
    require(stream != nullptr, "stream is NULL");
    stream->refcount.fetch_add(1, std::memory_order_relaxed);
  });
}

void xrt_stream_release(xrt_stream_t* stream) {
  if (stream && stream->refcount.fetch_sub(1, std::memory_order_acq_rel) == 1) delete stream;
}

xrt_status_t xrt_stream_synchronize(xrt_stream_t* stream) {
  // CPU work is complete when its call returns: nothing is pending.
  return guarded([&] { require(stream != nullptr, "stream is NULL"); });
}

xrt_status_t xrt_stream_device(const xrt_stream_t* stream, xrt_device_t** out) {
  return guarded([&] {
    require(stream != nullptr, "stream is NULL");
    require_out(out, "out");
    *out = stream->device;
  });
}

xrt_status_t xrt_event_create(xrt_device_t* device, xrt_event_t** out) {
  return guarded([&] {
    require_out(out, "out");
    auto* event = new xrt_event();
    event->device = require_device(device);
    *out = event;
  });
}

xrt_status_t xrt_event_retain(xrt_event_t* event) {
  return guarded([&] {
    require(event != nullptr, "event is NULL");
    event->refcount.fetch_add(1, std::memory_order_relaxed);
  });
}

void xrt_event_release(xrt_event_t* event) {
  if (event && event->refcount.fetch_sub(1, std::memory_order_acq_rel) == 1) delete event;
}

xrt_status_t xrt_event_record(xrt_event_t* event, xrt_stream_t* stream) {
  return guarded([&] {
    require(event != nullptr, "event is NULL");
    require(!stream || stream->device == event->device, "the event belongs to ",
            event->device->name, ", the stream to ", stream ? stream->device->name : "");
    event->time = std::chrono::steady_clock::now();
    event->recorded.store(true, std::memory_order_release);
  });
}

xrt_status_t xrt_event_synchronize(xrt_event_t* event) {
  return guarded([&] { require(event != nullptr, "event is NULL"); });
}

xrt_status_t xrt_event_query(xrt_event_t* event, int32_t* done) {
  return guarded([&] {
    require(event != nullptr, "event is NULL");
    require_out(done, "done");
    *done = 1;
  });
}

xrt_status_t xrt_event_elapsed_time(xrt_event_t* start, xrt_event_t* end, float* ms) {
  return guarded([&] {
    require(start != nullptr && end != nullptr, "event is NULL");
    require_out(ms, "ms");
    require(start->recorded.load(std::memory_order_acquire), "the start event was never recorded");
    require(end->recorded.load(std::memory_order_acquire), "the end event was never recorded");
    require(start->device == end->device, "events belong to different devices: ",
            start->device->name, " and ", end->device->name);
    *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  });
}

/* Memory ----------------------------------------------------------------- */

xrt_status_t xrt_memory_alloc(xrt_device_t* device, size_t nbytes, void** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = require_device(device)->pool->allocate(nbytes)->ptr;
  });
}

xrt_status_t xrt_memory_free(xrt_device_t* device, void* ptr) {
  return guarded([&] {
    if (ptr) require_device(device)->pool->release_pointer(ptr);
  });
}

xrt_status_t xrt_memory_stats(xrt_device_t* device, xrt_memory_stats_t* stats) {
  return guarded([&] {
    require_out(stats, "stats");
    require(stats->struct_size >= sizeof(xrt_memory_stats_t), "stats->struct_size is ",
            stats->struct_size, ", expected at least ", sizeof(xrt_memory_stats_t));
    const size_t caller_size = stats->struct_size;
    *stats = require_device(device)->pool->stats();
    stats->struct_size = caller_size;
  });
}

xrt_status_t xrt_memory_empty_cache(xrt_device_t* device) {
  return guarded([&] { require_device(device)->pool->empty_cache(); });
}

xrt_status_t xrt_memory_reset_peak(xrt_device_t* device) {
  return guarded([&] { require_device(device)->pool->reset_peak(); });
}

/* Tensors ---------------------------------------------------------------- */

xrt_status_t xrt_tensor_create(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                               const int64_t* shape, xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::tensor_create(require_device(device), dtype, ndim, shape);
  });
}

xrt_status_t xrt_tensor_zeros(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                              const int64_t* shape, xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    xrt::TensorRef t(xrt::tensor_create(require_device(device), dtype, ndim, shape));
    if (device->kind != XRT_DEVICE_CPU)
      fail(XRT_ERROR_UNSUPPORTED, "xrt_tensor_zeros: no fill for ", device->name);
    std::memset(t->data, 0, xrt::tensor_nbytes(t.get()));
    *out = t.release();
  });
}

xrt_status_t xrt_tensor_wrap(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                             const int64_t* shape, const int64_t* strides, void* data,
                             xrt_deleter_t deleter, void* context, xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::tensor_wrap(require_device(device), dtype, ndim, shape, strides, data, deleter,
                            context);
  });
}

xrt_status_t xrt_tensor_retain(xrt_tensor_t* tensor) {
  return guarded([&] {
    require(tensor != nullptr, "tensor is NULL");
    xrt::tensor_retain(tensor);
  });
}

void xrt_tensor_release(xrt_tensor_t* tensor) { xrt::tensor_release(tensor); }

xrt_status_t xrt_tensor_info(const xrt_tensor_t* tensor, xrt_tensor_info_t* info) {
  return guarded([&] {
    require(tensor != nullptr, "tensor is NULL");
    require_out(info, "info");
    require(info->struct_size >= sizeof(xrt_tensor_info_t), "info->struct_size is ",
            info->struct_size, ", expected at least ", sizeof(xrt_tensor_info_t));
    info->dtype = tensor->dtype;
    info->ndim = tensor->ndim;
    info->shape = tensor->shape;
    info->strides = tensor->strides;
    info->data = tensor->data;
    info->device = tensor->device;
    info->numel = tensor->numel;
    info->nbytes = xrt::tensor_nbytes(tensor);
    info->contiguous = tensor->contiguous;
    info->read_only = tensor->read_only;
  });
}

xrt_status_t xrt_tensor_data(const xrt_tensor_t* tensor, void** data) {
  return guarded([&] {
    require(tensor != nullptr, "tensor is NULL");
    require_out(data, "data");
    *data = tensor->data;
  });
}

xrt_status_t xrt_tensor_shape(const xrt_tensor_t* tensor, int32_t* ndim, const int64_t** shape) {
  return guarded([&] {
    require(tensor != nullptr, "tensor is NULL");
    require_out(ndim, "ndim");
    require_out(shape, "shape");
    *ndim = tensor->ndim;
    *shape = tensor->shape;
  });
}

xrt_status_t xrt_tensor_copy(xrt_tensor_t* dst, const xrt_tensor_t* src, xrt_stream_t* stream) {
  return guarded([&] {
    require(dst != nullptr, "dst is NULL");
    require(src != nullptr, "src is NULL");
    (void)stream;  // host copies complete before returning
    xrt::tensor_copy(dst, src);
  });
}

xrt_status_t xrt_tensor_to(const xrt_tensor_t* src, xrt_device_t* device, xrt_stream_t* stream,
                           xrt_tensor_t** out) {
  return guarded([&] {
    require(src != nullptr, "src is NULL");
    require_out(out, "out");
    (void)stream;
    xrt::TensorRef t(xrt::tensor_create(require_device(device), src->dtype, src->ndim, src->shape));
    xrt::tensor_copy(t.get(), src);
    *out = t.release();
  });
}

xrt_status_t xrt_tensor_contiguous(const xrt_tensor_t* src, xrt_tensor_t** out) {
  return guarded([&] {
    require(src != nullptr, "src is NULL");
    require_out(out, "out");
    *out = xrt::tensor_contiguous(src);
  });
}

xrt_status_t xrt_tensor_to_dlpack(xrt_tensor_t* tensor, DLManagedTensorVersioned** out) {
  return guarded([&] {
    require(tensor != nullptr, "tensor is NULL");
    require_out(out, "out");
    *out = xrt::export_dlpack(tensor);
  });
}

xrt_status_t xrt_tensor_to_dlpack_legacy(xrt_tensor_t* tensor, DLManagedTensor** out) {
  return guarded([&] {
    require(tensor != nullptr, "tensor is NULL");
    require_out(out, "out");
    *out = xrt::export_dlpack_legacy(tensor);
  });
}

xrt_status_t xrt_tensor_from_dlpack(DLManagedTensorVersioned* managed, xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::import_dlpack(managed);
  });
}

xrt_status_t xrt_tensor_from_dlpack_legacy(DLManagedTensor* managed, xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::import_dlpack_legacy(managed);
  });
}

/* Ops -------------------------------------------------------------------- */

xrt_status_t xrt_op_run(const char* op, const xrt_tensor_t* const* inputs, size_t num_inputs,
                        const xrt_attr_t* attrs, size_t num_attrs, xrt_stream_t* stream,
                        xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::run_op(op, inputs, num_inputs, attrs, num_attrs, stream);
  });
}

xrt_status_t xrt_matmul(const xrt_tensor_t* a, const xrt_tensor_t* b, xrt_stream_t* stream,
                        xrt_tensor_t** out) {
  const xrt_tensor_t* inputs[] = {a, b};
  return xrt_op_run("matmul", inputs, 2, nullptr, 0, stream, out);
}

xrt_status_t xrt_add(const xrt_tensor_t* a, const xrt_tensor_t* b, xrt_stream_t* stream,
                     xrt_tensor_t** out) {
  const xrt_tensor_t* inputs[] = {a, b};
  return xrt_op_run("add", inputs, 2, nullptr, 0, stream, out);
}

xrt_status_t xrt_gelu(const xrt_tensor_t* x, xrt_stream_t* stream, xrt_tensor_t** out) {
  const xrt_tensor_t* inputs[] = {x};
  return xrt_op_run("gelu", inputs, 1, nullptr, 0, stream, out);
}

xrt_status_t xrt_softmax(const xrt_tensor_t* x, int32_t axis, xrt_stream_t* stream,
                         xrt_tensor_t** out) {
  const xrt_tensor_t* inputs[] = {x};
  const xrt_attr_t attrs[] = {{"axis", XRT_ATTR_INT, axis, 0.0}};
  return xrt_op_run("softmax", inputs, 1, attrs, 1, stream, out);
}

xrt_status_t xrt_layer_norm(const xrt_tensor_t* x, const xrt_tensor_t* weight,
                            const xrt_tensor_t* bias, double eps, xrt_stream_t* stream,
                            xrt_tensor_t** out) {
  const xrt_tensor_t* inputs[] = {x, weight, bias};
  const xrt_attr_t attrs[] = {{"eps", XRT_ATTR_FLOAT, 0, eps}};
  return xrt_op_run("layer_norm", inputs, 3, attrs, 1, stream, out);
}

xrt_status_t xrt_rms_norm(const xrt_tensor_t* x, const xrt_tensor_t* weight, double eps,
                          xrt_stream_t* stream, xrt_tensor_t** out) {
  const xrt_tensor_t* inputs[] = {x, weight};
  const xrt_attr_t attrs[] = {{"eps", XRT_ATTR_FLOAT, 0, eps}};
  return xrt_op_run("rms_norm", inputs, 2, attrs, 1, stream, out);
}

xrt_status_t xrt_attention(const xrt_tensor_t* q, const xrt_tensor_t* k, const xrt_tensor_t* v,
                           int32_t causal, double scale, xrt_stream_t* stream,
                           xrt_tensor_t** out) {
  const xrt_tensor_t* inputs[] = {q, k, v};
  const xrt_attr_t attrs[] = {{"causal", XRT_ATTR_INT, causal ? 1 : 0, 0.0},
                              {"scale", XRT_ATTR_FLOAT, 0, scale}};
  return xrt_op_run("attention", inputs, 3, attrs, 2, stream, out);
}

/* Sessions --------------------------------------------------------------- */

xrt_status_t xrt_session_create(const char* model_path, const void* model_data, size_t model_size,
                                const char* backend, xrt_device_t* device,
                                const xrt_option_t* options, size_t num_options,
                                xrt_session_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::session_create(model_path, model_data, model_size, backend, device, options,
                               num_options);
  });
}

xrt_status_t xrt_session_retain(xrt_session_t* session) {
  return guarded([&] {
    require(session != nullptr, "session is NULL");
    session->refcount.fetch_add(1, std::memory_order_relaxed);
  });
}

void xrt_session_release(xrt_session_t* session) { xrt::session_release(session); }

xrt_status_t xrt_session_backend(const xrt_session_t* session, const char** name) {
  return guarded([&] {
    require(session != nullptr, "session is NULL");
    require_out(name, "name");
    *name = session->backend;
  });
}

xrt_status_t xrt_session_device(const xrt_session_t* session, xrt_device_t** out) {
  return guarded([&] {
    require(session != nullptr, "session is NULL");
    require_out(out, "out");
    *out = session->device;
  });
}

xrt_status_t xrt_session_input_count(const xrt_session_t* session, size_t* count) {
  return guarded([&] {
    require(session != nullptr, "session is NULL");
    require_out(count, "count");
    *count = session->inputs.size();
  });
}

xrt_status_t xrt_session_output_count(const xrt_session_t* session, size_t* count) {
  return guarded([&] {
    require(session != nullptr, "session is NULL");
    require_out(count, "count");
    *count = session->outputs.size();
  });
}

namespace {

void copy_value_info(const std::vector<xrt_value_info_t>& values, size_t index,
                     xrt_value_info_t* info, const char* what) {
  require_out(info, "info");
  require(info->struct_size >= sizeof(xrt_value_info_t), "info->struct_size is ",
          info->struct_size, ", expected at least ", sizeof(xrt_value_info_t));
  require(index < values.size(), what, " index ", index, " is out of range (", values.size(),
          " ", what, "s)");
  const size_t caller_size = info->struct_size;
  *info = values[index];
  info->struct_size = caller_size;
}

}  // namespace

xrt_status_t xrt_session_input_info(const xrt_session_t* session, size_t index,
                                    xrt_value_info_t* info) {
  return guarded([&] {
    require(session != nullptr, "session is NULL");
    copy_value_info(session->inputs, index, info, "input");
  });
}

xrt_status_t xrt_session_output_info(const xrt_session_t* session, size_t index,
                                     xrt_value_info_t* info) {
  return guarded([&] {
    require(session != nullptr, "session is NULL");
    copy_value_info(session->outputs, index, info, "output");
  });
}

xrt_status_t xrt_session_run(xrt_session_t* session, const char* const* input_names,
                             const xrt_tensor_t* const* inputs, size_t num_inputs,
                             const char* const* output_names, size_t num_outputs,
                             xrt_tensor_t** outputs) {
  return guarded([&] {
    require(session != nullptr, "session is NULL");
    xrt::session_run(session, input_names, inputs, num_inputs, output_names, num_outputs,
                     outputs);
  });
}

/* Backends --------------------------------------------------------------- */

xrt_status_t xrt_backend_count(int32_t* count) {
  return guarded([&] {
    require_out(count, "count");
    *count = static_cast<int32_t>(Runtime::get().backend_count());
  });
}

xrt_status_t xrt_backend_info(int32_t index, xrt_backend_info_t* info) {
  return guarded([&] {
    require_out(info, "info");
    require(info->struct_size >= sizeof(xrt_backend_info_t), "info->struct_size is ",
            info->struct_size, ", expected at least ", sizeof(xrt_backend_info_t));
    require(index >= 0, "backend index ", index, " is negative");
    const xrt::Backend& kept = Runtime::get().backend(static_cast<size_t>(index));
    info->name = kept.name.c_str();
    info->version = kept.version.c_str();
    info->path = kept.path.c_str();
    info->reason = kept.reason.c_str();
    info->available = kept.reason.empty();
    info->builtin = kept.builtin;
    info->runs_models = kept.sessions != nullptr;
    info->details = "";
    if (kept.sessions && kept.reason.empty()) {
      const xrt_session_api_t* api = kept.sessions;
      if (api->struct_size >= sizeof(xrt_session_api_t) && api->details && api->details())
        info->details = api->details();
    }
  });
}

xrt_status_t xrt_plugin_load(const char* path) {
  return guarded([&] {
    require(path != nullptr, "path is NULL");
    Runtime::get().load_plugin(path);
  });
}

/* Profiler --------------------------------------------------------------- */

xrt_status_t xrt_profiler_start(void) {
  return guarded([] { xrt::Profiler::get().start(); });
}

xrt_status_t xrt_profiler_stop(void) {
  return guarded([] { xrt::Profiler::get().stop(); });
}

xrt_status_t xrt_profiler_export(const char* path) {
  return guarded([&] {
    require(path != nullptr, "path is NULL");
    const std::string json = xrt::Profiler::get().chrome_trace_json();
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file) fail(XRT_ERROR_IO, "cannot open '", path, "' for writing: ", std::strerror(errno));
    file << json;
    file.close();
    if (!file) fail(XRT_ERROR_IO, "cannot write '", path, "'");
  });
}

xrt_status_t xrt_profiler_summary(char* buf, size_t capacity, size_t* length) {
  return guarded([&] {
    require_out(length, "length");
    require(capacity == 0 || buf != nullptr, "buf is NULL with capacity ", capacity);
    const std::string text = xrt::Profiler::get().summary();
    *length = text.size();
    if (capacity) {
      const size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
      std::memcpy(buf, text.data(), n);
      buf[n] = '\0';
    }
  });
}

xrt_status_t xrt_profiler_event_count(size_t* count) {
  return guarded([&] {
    require_out(count, "count");
    *count = xrt::Profiler::get().event_count();
  });
}

}  // extern "C"
