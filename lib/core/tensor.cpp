#include "tensor.h"

#include <cstdint>
#include <memory>

#include "dtype.h"
#include "error.h"
#include "profiler.h"

namespace xrt {

std::string shape_string(int32_t ndim, const int64_t* shape) {
  std::string s = "(";
  for (int32_t i = 0; i < ndim; ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (ndim == 1) s += ",";
  return s + ")";
}

int64_t checked_numel(int32_t ndim, const int64_t* shape) {
  XRT_REQUIRE(ndim >= 0 && ndim <= XRT_MAX_DIMS, "ndim ", ndim, " is out of range (expected 0..",
              XRT_MAX_DIMS, ")");
  XRT_REQUIRE(ndim == 0 || shape != nullptr, "shape is NULL for ndim ", ndim);
  int64_t numel = 1;
  for (int32_t i = 0; i < ndim; ++i) {
    XRT_REQUIRE(shape[i] >= 0, "shape[", i, "] = ", shape[i], " is negative (shape ",
                shape_string(ndim, shape), ")");
  }
  for (int32_t i = 0; i < ndim; ++i) {
    XRT_REQUIRE(!__builtin_mul_overflow(numel, shape[i], &numel), "shape ", shape_string(ndim, shape),
                " has more elements than int64 can count");
  }
  return numel;
}

size_t checked_nbytes(xrt_dtype_t dtype, int32_t ndim, const int64_t* shape) {
  const int64_t numel = checked_numel(ndim, shape);
  int64_t nbytes = 0;
  XRT_REQUIRE(!__builtin_mul_overflow(numel, static_cast<int64_t>(dtype_size(dtype)), &nbytes),
              "shape ", shape_string(ndim, shape), " of ", dtype_name(dtype),
              " needs more bytes than int64 can count");
  // An empty tensor's other extents still make its strides (in elements and
  // in bytes, for the buffer protocol), so they must multiply within int64;
  // for any other tensor that product is nbytes, checked above.
  int64_t span = static_cast<int64_t>(dtype_size(dtype));
  for (int32_t i = 0; numel == 0 && i < ndim; ++i)
    XRT_REQUIRE(!__builtin_mul_overflow(span, shape[i] > 0 ? shape[i] : 1, &span), "shape ",
                shape_string(ndim, shape), " of ", dtype_name(dtype),
                " has strides beyond int64 (its nonzero extents multiply past it)");
  return static_cast<size_t>(nbytes);
}

void contiguous_strides(int32_t ndim, const int64_t* shape, int64_t* strides) {
  // Unsigned, so an op's intermediate shape that tensor creation will refuse
  // (checked_nbytes) wraps here instead of overflowing.
  uint64_t stride = 1;
  for (int32_t i = ndim - 1; i >= 0; --i) {
    strides[i] = static_cast<int64_t>(stride);
    stride *= shape[i] > 0 ? static_cast<uint64_t>(shape[i]) : 1;
  }
}

size_t tensor_nbytes(const xrt_tensor* t) {
  return static_cast<size_t>(t->numel) * dtype_size(t->dtype);
}

namespace {

bool strides_are_contiguous(int32_t ndim, const int64_t* shape, const int64_t* strides) {
  int64_t expected = 1;
  for (int32_t i = ndim - 1; i >= 0; --i) {
    if (shape[i] == 0) return true;
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

// Fills in everything but the memory owner; validates as it goes.
xrt_tensor* new_tensor_header(xrt_device* device, xrt_dtype_t dtype, int32_t ndim,
                              const int64_t* shape, const int64_t* strides) {
  XRT_REQUIRE(device != nullptr, "device is NULL");
  const int64_t numel =
      static_cast<int64_t>(checked_nbytes(dtype, ndim, shape) / dtype_size(dtype));
  auto* t = new xrt_tensor();
  t->device = device;
  t->dtype = dtype;
  t->ndim = ndim;
  t->numel = numel;
  for (int32_t i = 0; i < ndim; ++i) t->shape[i] = shape[i];
  if (strides) {
    for (int32_t i = 0; i < ndim; ++i) t->strides[i] = strides[i];
    t->contiguous = strides_are_contiguous(ndim, shape, strides);
  } else {
    contiguous_strides(ndim, shape, t->strides);
  }
  return t;
}

// Wrapped memory comes with strides from outside: every byte the view
// reaches must be addressable from `data` without int64 offsets or the
// pointer wrapping, as the copy and kernel loops compute them unchecked.
void check_wrapped_span(const xrt_tensor* t) {
  if (t->numel == 0) return;
  const int64_t item = static_cast<int64_t>(dtype_size(t->dtype));
  int64_t low = 0, high = item - 1;  // byte offsets of the first and last bytes reached
  for (int32_t i = 0; i < t->ndim; ++i) {
    int64_t step = 0;
    const bool fits = !__builtin_mul_overflow(t->shape[i] - 1, t->strides[i], &step) &&
                      !__builtin_mul_overflow(step, item, &step) &&
                      !__builtin_add_overflow(step < 0 ? low : high, step, step < 0 ? &low : &high);
    XRT_REQUIRE(fits, "strides ", shape_string(t->ndim, t->strides), " of shape ",
                shape_string(t->ndim, t->shape), " reach byte offsets int64 cannot hold");
  }
  const uint64_t base = reinterpret_cast<uintptr_t>(t->data);
  const uint64_t below = 0 - static_cast<uint64_t>(low);  // |low|, low <= 0
  XRT_REQUIRE(below <= base && static_cast<uint64_t>(high) <= UINTPTR_MAX - base, "strides ",
              shape_string(t->ndim, t->strides), " of shape ", shape_string(t->ndim, t->shape),
              " reach byte offsets ", low, "..", high, " from data ", t->data,
              ", beyond the address space (expected offsets that keep the pointer in range)");
}

}  // namespace

namespace {
void free_device_memory(void* data, void* device) {
  try {
    device_free(static_cast<xrt_device*>(device), data);
  } catch (const Error&) {
    // Release paths cannot report; the device keeps the block accounted.
  }
}
}  // namespace

xrt_tensor* tensor_create(xrt_device* device, xrt_dtype_t dtype, int32_t ndim,
                          const int64_t* shape, void* stream, const int64_t* strides) {
  xrt_tensor* t = new_tensor_header(device, dtype, ndim, shape, strides);
  try {
    if (device->pool) {
      t->block = device->pool->allocate(tensor_nbytes(t));
      t->data = t->block->ptr;
    } else {
      t->data = device_alloc(device, tensor_nbytes(t), stream);
      t->deleter = free_device_memory;
      t->deleter_context = device;
    }
  } catch (...) {
    delete t;
    throw;
  }
  return t;
}

xrt_tensor* tensor_wrap(xrt_device* device, xrt_dtype_t dtype, int32_t ndim, const int64_t* shape,
                        const int64_t* strides, void* data, xrt_deleter_t deleter, void* context) {
  std::unique_ptr<xrt_tensor> t(new_tensor_header(device, dtype, ndim, shape, strides));
  XRT_REQUIRE(data != nullptr || t->numel == 0, "data is NULL for a tensor of shape ",
              shape_string(ndim, shape), " (only empty tensors may wrap NULL)");
  t->data = data;
  check_wrapped_span(t.get());
  t->deleter = deleter;
  t->deleter_context = context;
  return t.release();
}

void tensor_retain(xrt_tensor* t) { t->refcount.fetch_add(1, std::memory_order_relaxed); }

void tensor_release(xrt_tensor* t) {
  if (!t) return;
  if (t->refcount.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (t->block) t->device->pool->release(t->block);
  if (t->deleter) t->deleter(t->data, t->deleter_context);
  delete t;
}

namespace {

xrt_kernel_tensor_t kernel_view(const xrt_tensor* t) {
  return xrt_kernel_tensor_t{t->data, t->dtype, t->ndim, t->shape, t->strides, t->device->kind,
                             t->device->index};
}

// The copy table's number for one side: -1 for host memory.
int32_t copy_index(const xrt_device* d) { return d->host_memory ? -1 : d->index; }

void check_copy_path(const xrt_tensor* dst, const xrt_tensor* src) {
  const xrt_device* a = dst->device;
  const xrt_device* b = src->device;
  if (!a->host_memory && !b->host_memory && a->api != b->api)
    fail(XRT_ERROR_UNSUPPORTED, "copy: no path from ", b->name, " to ", a->name,
         " (different backends)");
}

// Any strides, through a contiguous copy on the side that has them. Views of
// one device, or of host memory on both sides, take one strided copy.
void device_copy(xrt_tensor* dst, const xrt_tensor* src, void* stream) {
  auto* device = const_cast<xrt_device*>(copy_device(dst->device, src->device));
  const xrt_device_api_t* api = device->api;
  if (dst->device == src->device || (dst->device->host_memory && src->device->host_memory)) {
    const xrt_kernel_tensor_t d = kernel_view(dst), s = kernel_view(src);
    check_device_call(device, api->copy_strided(device->index, stream, &d, &s), "copy");
    return;
  }
  if (!src->contiguous) {
    // The stream belongs to the device the copy runs on; packing on another
    // device uses that device's default stream.
    TensorRef packed(tensor_contiguous(src, src->device == device ? stream : nullptr));
    device_copy(dst, packed.get(), stream);
    return;
  }
  if (!dst->contiguous) {
    TensorRef staged(tensor_create(dst->device, dst->dtype, dst->ndim, dst->shape,
                                   dst->device == device ? stream : nullptr));
    device_copy(staged.get(), src, stream);
    tensor_copy(dst, staged.get(), stream);
    return;
  }
  check_device_call(device,
                    api->copy(device->index, stream, dst->data, copy_index(dst->device),
                              src->data, copy_index(src->device), tensor_nbytes(src)),
                    "copy");
}

}  // namespace

const xrt_device* copy_device(const xrt_device* dst, const xrt_device* src) {
  return dst->host_memory && !src->host_memory ? src : dst;
}

void tensor_copy(xrt_tensor* dst, const xrt_tensor* src, void* stream) {
  XRT_REQUIRE(dst->dtype == src->dtype, "copy: dtype mismatch: destination is ",
              dtype_name(dst->dtype), ", source is ", dtype_name(src->dtype));
  bool same_shape = dst->ndim == src->ndim;
  for (int32_t i = 0; same_shape && i < dst->ndim; ++i) same_shape = dst->shape[i] == src->shape[i];
  XRT_REQUIRE(same_shape, "copy: shape mismatch: destination is ", shape_string(dst->ndim, dst->shape),
              ", source is ", shape_string(src->ndim, src->shape));
  XRT_REQUIRE(!dst->read_only, "copy: the destination tensor is read-only");
  check_copy_path(dst, src);
  ProfileSpan span("copy", "copy");
  if (span.active()) {
    span.arg("from", src->device->name);
    span.arg("to", dst->device->name);
    span.arg("bytes", std::to_string(tensor_nbytes(src)));
  }
  if (dst->numel == 0) return;
  device_copy(dst, src, stream);
}

void tensor_fill_zero(xrt_tensor* t, void* stream) {
  const size_t nbytes = tensor_nbytes(t);
  if (nbytes == 0) return;
  check_device_call(t->device, t->device->api->fill_zero(t->device->index, stream, t->data, nbytes),
                    "zero fill");
}

xrt_tensor* tensor_contiguous(const xrt_tensor* src, void* stream) {
  auto* mutable_src = const_cast<xrt_tensor*>(src);
  if (src->contiguous) {
    tensor_retain(mutable_src);
    return mutable_src;
  }
  TensorRef out(tensor_create(src->device, src->dtype, src->ndim, src->shape, stream));
  tensor_copy(out.get(), src, stream);
  return out.release();
}

}  // namespace xrt
