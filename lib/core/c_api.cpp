// The extern "C" edge: every entry point catches every exception, turns it
// into a status and leaves the message in a thread-local for xrt_last_error.
#include <cstring>
#include <new>
#include <string>

#include "dispatcher.h"
#include "dlpack.h"
#include "dtype.h"
#include "enum_code.h"
#include "error.h"
#include "memory.h"
#include "file_write.h"
#include "plugin_loader.h"
#include "profiler.h"
#include "runtime.h"
#include "session.h"
#include "session_values.h"
#include "stream.h"
#include "struct_access.h"
#include "tensor.h"
#include "xpuruntime/xpuruntime.h"

using xrt::fail;
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
  XRT_REQUIRE(out != nullptr, name, " is NULL");
}

xrt_device* require_device(xrt_device_t* device) {
  XRT_REQUIRE(device != nullptr, "device is NULL");
  return device;
}

// The stream, if given, must belong to the device the copy runs on.
void* copy_stream(const xrt_device* dst, const xrt_device* src, const xrt_stream* stream) {
  if (!stream) return nullptr;
  const xrt_device* runs_on = xrt::copy_device(dst, src);
  XRT_REQUIRE(stream->device == runs_on, "copy from ", src->name, " to ", dst->name, " runs on ",
              runs_on->name, ", but the stream belongs to ", stream->device->name);
  return stream->native;
}

void* copy_stream(const xrt_tensor* dst, const xrt_tensor* src, const xrt_stream* stream) {
  return copy_stream(dst->device, src->device, stream);
}

}  // namespace

extern "C" {

const char* xrt_version(void) { return XRT_VERSION_STRING; }

int32_t xrt_api_version(void) { return XRT_API_VERSION; }

const char* xrt_last_error(void) { return last_error.c_str(); }

const char* xrt_status_name(xrt_status_t status) {
  switch (xrt::enum_code(status)) {
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
    *size = xrt::dtype_size(xrt::checked_dtype(dtype, "xrt_dtype_size"));
  });
}

xrt_status_t xrt_dtype_name(xrt_dtype_t dtype, const char** name) {
  return guarded([&] {
    require_out(name, "name");
    *name = xrt::dtype_name(xrt::checked_dtype(dtype, "xrt_dtype_name"));
  });
}

/* Devices ---------------------------------------------------------------- */

xrt_status_t xrt_device_count(int32_t* count) {
  return guarded([&] {
    require_out(count, "count");
    *count = static_cast<int32_t>(Runtime::get().device_count());
  });
}

xrt_status_t xrt_device_get(int32_t ordinal, xrt_device_t** out) {
  return guarded([&] {
    require_out(out, "out");
    const size_t count = Runtime::get().device_count();
    if (ordinal < 0 || static_cast<size_t>(ordinal) >= count)
      fail(XRT_ERROR_NOT_FOUND, "device ordinal ", ordinal, " is out of range (", count,
           " devices)");
    *out = Runtime::get().device_at(static_cast<size_t>(ordinal));
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
    XRT_REQUIRE(device != nullptr, "device is NULL");
    require_out(info, "info");
    xrt::check_struct_size(info->struct_size, xrt::kFirstDeviceInfoSize, "xrt_device_info_t");
    XRT_SET_FIELD(info, kind, device->kind);
    XRT_SET_FIELD(info, index, device->index);
    XRT_SET_FIELD(info, name, device->name.c_str());
    XRT_SET_FIELD(info, description, device->description.c_str());
    XRT_SET_FIELD(info, total_memory, device->total_memory);
    XRT_SET_FIELD(info, compute_units, device->compute_units);
    XRT_SET_FIELD(info, compute_capability, device->compute_capability);
    XRT_SET_FIELD(info, kind_name, device->kind_name.c_str());
    XRT_SET_FIELD(info, host_memory, device->host_memory ? 1 : 0);
  });
}

/* Streams and events ----------------------------------------------------- */

xrt_status_t xrt_stream_create(xrt_device_t* device, xrt_stream_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::stream_create(require_device(device));
  });
}

xrt_status_t xrt_stream_wrap(xrt_device_t* device, void* native, xrt_stream_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::stream_wrap(require_device(device), native);
  });
}

xrt_status_t xrt_stream_native(const xrt_stream_t* stream, void** out) {
  return guarded([&] {
    XRT_REQUIRE(stream != nullptr, "stream is NULL");
    require_out(out, "out");
    *out = stream->native;
  });
}

xrt_status_t xrt_stream_retain(xrt_stream_t* stream) {
  return guarded([&] {
    XRT_REQUIRE(stream != nullptr, "stream is NULL");
    stream->refcount.fetch_add(1, std::memory_order_relaxed);
  });
}

void xrt_stream_release(xrt_stream_t* stream) { xrt::stream_release(stream); }

xrt_status_t xrt_stream_synchronize(xrt_stream_t* stream) {
  return guarded([&] {
    XRT_REQUIRE(stream != nullptr, "stream is NULL");
    xrt::stream_synchronize(stream);
  });
}

xrt_status_t xrt_device_synchronize(xrt_device_t* device) {
  return guarded([&] { xrt::device_synchronize(require_device(device)); });
}

xrt_status_t xrt_stream_device(const xrt_stream_t* stream, xrt_device_t** out) {
  return guarded([&] {
    XRT_REQUIRE(stream != nullptr, "stream is NULL");
    require_out(out, "out");
    *out = stream->device;
  });
}

xrt_status_t xrt_stream_wait_event(xrt_stream_t* stream, xrt_event_t* event) {
  return guarded([&] {
    XRT_REQUIRE(stream != nullptr, "stream is NULL");
    XRT_REQUIRE(event != nullptr, "event is NULL");
    xrt::stream_wait_event(stream, event);
  });
}

xrt_status_t xrt_event_create(xrt_device_t* device, xrt_event_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::event_create(require_device(device));
  });
}

xrt_status_t xrt_event_retain(xrt_event_t* event) {
  return guarded([&] {
    XRT_REQUIRE(event != nullptr, "event is NULL");
    event->refcount.fetch_add(1, std::memory_order_relaxed);
  });
}

void xrt_event_release(xrt_event_t* event) { xrt::event_release(event); }

xrt_status_t xrt_event_record(xrt_event_t* event, xrt_stream_t* stream) {
  return guarded([&] {
    XRT_REQUIRE(event != nullptr, "event is NULL");
    xrt::event_record(event, stream);
  });
}

xrt_status_t xrt_event_synchronize(xrt_event_t* event) {
  return guarded([&] {
    XRT_REQUIRE(event != nullptr, "event is NULL");
    xrt::event_synchronize(event);
  });
}

xrt_status_t xrt_event_query(xrt_event_t* event, int32_t* done) {
  return guarded([&] {
    XRT_REQUIRE(event != nullptr, "event is NULL");
    require_out(done, "done");
    *done = xrt::event_query(event);
  });
}

xrt_status_t xrt_event_elapsed_time(xrt_event_t* start, xrt_event_t* end, float* ms) {
  return guarded([&] {
    XRT_REQUIRE(start != nullptr && end != nullptr, "event is NULL");
    require_out(ms, "ms");
    *ms = xrt::event_elapsed_ms(start, end);
  });
}

/* Memory ----------------------------------------------------------------- */

xrt_status_t xrt_memory_alloc(xrt_device_t* device, size_t nbytes, void** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::device_alloc(require_device(device), nbytes, nullptr);
  });
}

xrt_status_t xrt_memory_free(xrt_device_t* device, void* ptr) {
  return guarded([&] {
    if (ptr) xrt::device_free(require_device(device), ptr);
  });
}

xrt_status_t xrt_memory_stats(xrt_device_t* device, xrt_memory_stats_t* stats) {
  return guarded([&] {
    require_out(stats, "stats");
    xrt::check_struct_size(stats->struct_size, xrt::kFirstMemoryStatsSize, "xrt_memory_stats_t");
    const xrt_memory_stats_t s = xrt::memory_stats(require_device(device));
    XRT_SET_FIELD(stats, allocated_bytes, s.allocated_bytes);
    XRT_SET_FIELD(stats, reserved_bytes, s.reserved_bytes);
    XRT_SET_FIELD(stats, peak_allocated_bytes, s.peak_allocated_bytes);
    XRT_SET_FIELD(stats, peak_reserved_bytes, s.peak_reserved_bytes);
    XRT_SET_FIELD(stats, num_allocs, s.num_allocs);
    XRT_SET_FIELD(stats, num_frees, s.num_frees);
    XRT_SET_FIELD(stats, num_cache_hits, s.num_cache_hits);
    XRT_SET_FIELD(stats, num_device_allocs, s.num_device_allocs);
  });
}

xrt_status_t xrt_memory_empty_cache(xrt_device_t* device) {
  return guarded([&] { xrt::memory_empty_cache(require_device(device)); });
}

xrt_status_t xrt_memory_reset_peak(xrt_device_t* device) {
  return guarded([&] { xrt::memory_reset_peak(require_device(device)); });
}

/* Tensors ---------------------------------------------------------------- */

xrt_status_t xrt_tensor_create(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                               const int64_t* shape, xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::tensor_create(require_device(device), xrt::checked_dtype(dtype, "xrt_tensor_create"),
                              ndim, shape);
  });
}

xrt_status_t xrt_tensor_zeros(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                              const int64_t* shape, xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    xrt::TensorRef t(xrt::tensor_create(require_device(device),
                                        xrt::checked_dtype(dtype, "xrt_tensor_zeros"), ndim, shape));
    xrt::tensor_fill_zero(t.get());
    *out = t.release();
  });
}

xrt_status_t xrt_tensor_create_pinned(xrt_dtype_t dtype, int32_t ndim, const int64_t* shape,
                                      xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = Runtime::get().create_pinned_tensor(xrt::checked_dtype(dtype, "xrt_tensor_create_pinned"),
                                               ndim, shape);
  });
}

xrt_status_t xrt_tensor_wrap(xrt_device_t* device, xrt_dtype_t dtype, int32_t ndim,
                             const int64_t* shape, const int64_t* strides, void* data,
                             xrt_deleter_t deleter, void* context, xrt_tensor_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = xrt::tensor_wrap(require_device(device), xrt::checked_dtype(dtype, "xrt_tensor_wrap"),
                            ndim, shape, strides, data, deleter, context);
  });
}

xrt_status_t xrt_tensor_retain(xrt_tensor_t* tensor) {
  return guarded([&] {
    XRT_REQUIRE(tensor != nullptr, "tensor is NULL");
    xrt::tensor_retain(tensor);
  });
}

void xrt_tensor_release(xrt_tensor_t* tensor) { xrt::tensor_release(tensor); }

xrt_status_t xrt_tensor_info(const xrt_tensor_t* tensor, xrt_tensor_info_t* info) {
  return guarded([&] {
    XRT_REQUIRE(tensor != nullptr, "tensor is NULL");
    require_out(info, "info");
    xrt::check_struct_size(info->struct_size, xrt::kFirstTensorInfoSize, "xrt_tensor_info_t");
    XRT_SET_FIELD(info, dtype, tensor->dtype);
    XRT_SET_FIELD(info, ndim, tensor->ndim);
    XRT_SET_FIELD(info, shape, tensor->shape);
    XRT_SET_FIELD(info, strides, tensor->strides);
    XRT_SET_FIELD(info, data, tensor->data);
    XRT_SET_FIELD(info, device, tensor->device);
    XRT_SET_FIELD(info, numel, tensor->numel);
    XRT_SET_FIELD(info, nbytes, xrt::tensor_nbytes(tensor));
    XRT_SET_FIELD(info, contiguous, tensor->contiguous);
    XRT_SET_FIELD(info, read_only, tensor->read_only);
  });
}

xrt_status_t xrt_tensor_data(const xrt_tensor_t* tensor, void** data) {
  return guarded([&] {
    XRT_REQUIRE(tensor != nullptr, "tensor is NULL");
    require_out(data, "data");
    *data = tensor->data;
  });
}

xrt_status_t xrt_tensor_shape(const xrt_tensor_t* tensor, int32_t* ndim, const int64_t** shape) {
  return guarded([&] {
    XRT_REQUIRE(tensor != nullptr, "tensor is NULL");
    require_out(ndim, "ndim");
    require_out(shape, "shape");
    *ndim = tensor->ndim;
    *shape = tensor->shape;
  });
}

xrt_status_t xrt_tensor_copy(xrt_tensor_t* dst, const xrt_tensor_t* src, xrt_stream_t* stream) {
  return guarded([&] {
    XRT_REQUIRE(dst != nullptr, "dst is NULL");
    XRT_REQUIRE(src != nullptr, "src is NULL");
    xrt::tensor_copy(dst, src, copy_stream(dst, src, stream));
  });
}

xrt_status_t xrt_tensor_to(const xrt_tensor_t* src, xrt_device_t* device, xrt_stream_t* stream,
                           xrt_tensor_t** out) {
  return guarded([&] {
    XRT_REQUIRE(src != nullptr, "src is NULL");
    require_out(out, "out");
    xrt_device* d = require_device(device);
    void* native = copy_stream(d, src->device, stream);
    xrt::TensorRef t(xrt::tensor_create(d, src->dtype, src->ndim, src->shape,
                                        xrt::copy_device(d, src->device) == d ? native : nullptr));
    xrt::tensor_copy(t.get(), src, native);
    *out = t.release();
  });
}

xrt_status_t xrt_tensor_contiguous(const xrt_tensor_t* src, xrt_tensor_t** out) {
  return guarded([&] {
    XRT_REQUIRE(src != nullptr, "src is NULL");
    require_out(out, "out");
    *out = xrt::tensor_contiguous(src);
  });
}

xrt_status_t xrt_tensor_to_dlpack(xrt_tensor_t* tensor, DLManagedTensorVersioned** out) {
  return guarded([&] {
    XRT_REQUIRE(tensor != nullptr, "tensor is NULL");
    require_out(out, "out");
    *out = xrt::export_dlpack(tensor);
  });
}

xrt_status_t xrt_tensor_to_dlpack_legacy(xrt_tensor_t* tensor, DLManagedTensor** out) {
  return guarded([&] {
    XRT_REQUIRE(tensor != nullptr, "tensor is NULL");
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
    xrt::run_op(op, nullptr, inputs, num_inputs, attrs, num_attrs, stream, out, 1);
  });
}

xrt_status_t xrt_op_run_outputs(const char* op, const xrt_tensor_t* const* inputs,
                                size_t num_inputs, const xrt_attr_t* attrs, size_t num_attrs,
                                xrt_stream_t* stream, xrt_tensor_t** outputs, size_t num_outputs) {
  return guarded([&] {
    require_out(outputs, "outputs");
    xrt::run_op(op, nullptr, inputs, num_inputs, attrs, num_attrs, stream, outputs, num_outputs);
  });
}

xrt_status_t xrt_op_run_impl(const char* op, const char* impl, const xrt_tensor_t* const* inputs,
                             size_t num_inputs, const xrt_attr_t* attrs, size_t num_attrs,
                             xrt_stream_t* stream, xrt_tensor_t** outputs, size_t num_outputs) {
  return guarded([&] {
    require_out(outputs, "outputs");
    xrt::run_op(op, impl, inputs, num_inputs, attrs, num_attrs, stream, outputs, num_outputs);
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
    XRT_REQUIRE(session != nullptr, "session is NULL");
    session->refcount.fetch_add(1, std::memory_order_relaxed);
  });
}

void xrt_session_release(xrt_session_t* session) { xrt::session_release(session); }

xrt_status_t xrt_session_backend(const xrt_session_t* session, const char** name) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    require_out(name, "name");
    *name = session->backend;
  });
}

xrt_status_t xrt_session_device(const xrt_session_t* session, xrt_device_t** out) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    require_out(out, "out");
    *out = session->device;
  });
}

xrt_status_t xrt_session_property(const xrt_session_t* session, const char* key,
                                  const char** value) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    XRT_REQUIRE(key != nullptr, "key is NULL");
    require_out(value, "value");
    *value = xrt::session_property(session, key);
  });
}

xrt_status_t xrt_session_end_profiling(xrt_session_t* session, const char* path) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    XRT_REQUIRE(path != nullptr, "path is NULL");
    xrt::session_end_profiling(session, path);
  });
}

xrt_status_t xrt_session_input_count(const xrt_session_t* session, size_t* count) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    require_out(count, "count");
    *count = session->inputs.size();
  });
}

xrt_status_t xrt_session_output_count(const xrt_session_t* session, size_t* count) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    require_out(count, "count");
    *count = session->outputs.size();
  });
}

namespace {

void copy_value_info(const std::vector<xrt_value_info_t>& values, size_t index,
                     xrt_value_info_t* info, const char* what) {
  require_out(info, "info");
  xrt::check_struct_size(info->struct_size, xrt::kFirstValueInfoSize, "xrt_value_info_t");
  XRT_REQUIRE(index < values.size(), what, " index ", index, " is out of range (", values.size(),
              " ", what, "s)");
  const xrt_value_info_t& value = values[index];
  XRT_SET_FIELD(info, name, value.name);
  XRT_SET_FIELD(info, dtype, value.dtype);
  XRT_SET_FIELD(info, ndim, value.ndim);
  XRT_SET_FIELD(info, shape, value.shape);
  XRT_SET_FIELD(info, dim_names, value.dim_names);
  XRT_SET_FIELD(info, kind, value.kind);
  XRT_SET_FIELD(info, type, value.type);
}

}  // namespace

xrt_status_t xrt_session_input_info(const xrt_session_t* session, size_t index,
                                    xrt_value_info_t* info) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    copy_value_info(session->inputs, index, info, "input");
  });
}

xrt_status_t xrt_session_output_info(const xrt_session_t* session, size_t index,
                                     xrt_value_info_t* info) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    copy_value_info(session->outputs, index, info, "output");
  });
}

xrt_status_t xrt_session_run(xrt_session_t* session, const char* const* input_names,
                             const xrt_tensor_t* const* inputs, size_t num_inputs,
                             const char* const* output_names, size_t num_outputs,
                             xrt_tensor_t** outputs) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    xrt::session_run(session, nullptr, input_names, inputs, num_inputs, output_names,
                     num_outputs, outputs);
  });
}

xrt_status_t xrt_session_run_with_options(xrt_session_t* session, xrt_run_options_t* run_options,
                                          const char* const* input_names,
                                          const xrt_tensor_t* const* inputs, size_t num_inputs,
                                          const char* const* output_names, size_t num_outputs,
                                          xrt_tensor_t** outputs) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    xrt::session_run(session, run_options, input_names, inputs, num_inputs, output_names,
                     num_outputs, outputs);
  });
}

xrt_status_t xrt_session_run_into(xrt_session_t* session, xrt_run_options_t* run_options,
                                  const char* const* input_names,
                                  const xrt_tensor_t* const* inputs, size_t num_inputs,
                                  const char* const* output_names, size_t num_outputs,
                                  xrt_tensor_t** outputs) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    xrt::session_run(session, run_options, input_names, inputs, num_inputs, output_names,
                     num_outputs, outputs, xrt::OutputsGiven::kSome);
  });
}

xrt_status_t xrt_session_run_values(xrt_session_t* session, xrt_run_options_t* run_options,
                                    const char* const* input_names,
                                    const xrt_value_t* const* inputs, size_t num_inputs,
                                    const char* const* output_names, size_t num_outputs,
                                    xrt_value_t** outputs) {
  return guarded([&] {
    XRT_REQUIRE(session != nullptr, "session is NULL");
    xrt::session_run_values(session, run_options, input_names, inputs, num_inputs, output_names,
                            num_outputs, outputs);
  });
}

void xrt_value_release(xrt_value_t* value) { xrt::value_release(value); }

xrt_status_t xrt_run_options_create(xrt_run_options_t** out) {
  return guarded([&] {
    require_out(out, "out");
    *out = new xrt_run_options();
  });
}

void xrt_run_options_release(xrt_run_options_t* options) { xrt::run_options_release(options); }

xrt_status_t xrt_run_options_set_terminate(xrt_run_options_t* options, int32_t terminate) {
  return guarded([&] {
    XRT_REQUIRE(options != nullptr, "run options are NULL");
    XRT_REQUIRE(terminate == 0 || terminate == 1, "terminate must be 0 or 1, not ", terminate);
    xrt::run_options_set_terminate(options, terminate == 1);
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
    xrt::check_struct_size(info->struct_size, xrt::kFirstBackendInfoSize, "xrt_backend_info_t");
    XRT_REQUIRE(index >= 0, "backend index ", index, " is negative");
    const xrt::Backend& kept = Runtime::get().backend(static_cast<size_t>(index));
    const char* details = kept.reason.empty() ? xrt::session_details(kept.sessions) : nullptr;
    XRT_SET_FIELD(info, name, kept.name.c_str());
    XRT_SET_FIELD(info, version, kept.version.c_str());
    XRT_SET_FIELD(info, path, kept.path.c_str());
    XRT_SET_FIELD(info, reason, kept.reason.c_str());
    XRT_SET_FIELD(info, available, kept.reason.empty());
    XRT_SET_FIELD(info, builtin, kept.builtin);
    XRT_SET_FIELD(info, runs_models, kept.sessions != nullptr);
    XRT_SET_FIELD(info, details, details ? details : "");
  });
}

xrt_status_t xrt_plugin_load(const char* path) {
  return guarded([&] {
    XRT_REQUIRE(path != nullptr, "path is NULL");
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
    XRT_REQUIRE(path != nullptr, "path is NULL");
    xrt::write_file_atomically(path, xrt::Profiler::get().chrome_trace_json());
  });
}

xrt_status_t xrt_profiler_summary(char* buf, size_t capacity, size_t* length) {
  return guarded([&] {
    require_out(length, "length");
    XRT_REQUIRE(capacity == 0 || buf != nullptr, "buf is NULL with capacity ", capacity);
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
