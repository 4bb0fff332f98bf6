// Fuzzes tensor creation and the calls that read tensor descriptions:
// xrt_tensor_create / zeros / wrap with any dtype code, ndim, shape and
// strides, then copies, xrt_tensor_to, xrt_tensor_contiguous and a DLPack
// round trip (the C API's way to get a view) on what was accepted.
#include "fuzz_util.h"

namespace {

// Larger requests are valid but would only measure the allocator.
constexpr uint64_t kMaxBytes = 1u << 22;
constexpr size_t kBufferBytes = 1u << 12;

// Bytes an accepted tensor of this description needs, or 0 when the library
// must refuse it (bad dtype or ndim, negative extents, or extents whose
// product or row-major byte strides overflow int64, even in an empty tensor).
uint64_t expected_bytes(int32_t dtype, int32_t ndim, const int64_t* shape, bool* valid) {
  size_t item = 0;
  *valid = xrt_dtype_size(static_cast<xrt_dtype_t>(dtype), &item) == XRT_OK && ndim >= 0 &&
           ndim <= XRT_MAX_DIMS;
  if (!*valid) return 0;
  uint64_t numel = 1;
  for (int32_t i = 0; i < ndim; ++i) *valid &= shape[i] >= 0;
  for (int32_t i = 0; *valid && i < ndim; ++i)
    *valid = !__builtin_mul_overflow(numel, static_cast<uint64_t>(shape[i]), &numel) &&
             numel <= static_cast<uint64_t>(INT64_MAX);
  uint64_t bytes = 0;
  *valid = *valid && !__builtin_mul_overflow(numel, item, &bytes) &&
           bytes <= static_cast<uint64_t>(INT64_MAX);
  int64_t span = static_cast<int64_t>(item);
  for (int32_t i = 0; *valid && i < ndim; ++i)
    *valid = !__builtin_mul_overflow(span, shape[i] > 0 ? shape[i] : 1, &span);
  return *valid ? bytes : 0;
}

// Where in a buffer of `limit` bytes a view must start so that every element
// its shape and strides reach lies inside; false when none fits.
bool place_view(int32_t ndim, const int64_t* shape, const int64_t* strides, size_t item,
                uint64_t limit, uint64_t* start) {
  __int128 low = 0, high = 0;
  for (int32_t i = 0; i < ndim; ++i) {
    if (shape[i] == 0) return *start = 0, true;  // no element is ever read
    const int64_t max_stride = static_cast<int64_t>(limit);
    if (shape[i] > 1 && (strides[i] > max_stride || strides[i] < -max_stride)) return false;
    const __int128 span = static_cast<__int128>(shape[i] - 1) * strides[i];
    (span < 0 ? low : high) += span;
  }
  if ((high - low + 1) * item > limit) return false;
  *start = static_cast<uint64_t>(-low * item);
  return true;
}

void check_info(const xrt_tensor_t* t, int32_t dtype, int32_t ndim, const int64_t* shape,
                uint64_t bytes) {
  xrt_tensor_info_t info = {sizeof info};
  FUZZ_CHECK(xrt_tensor_info(t, &info) == XRT_OK);
  FUZZ_CHECK(info.dtype == dtype && info.ndim == ndim && info.nbytes == bytes);
  for (int32_t i = 0; i < ndim; ++i) FUZZ_CHECK(info.shape[i] == shape[i]);
}

// Everything that only reads or copies a tensor the library accepted.
void exercise(xrt_tensor_t* t, FuzzedDataProvider& in) {
  xrt_tensor_info_t info = {sizeof info};
  FUZZ_CHECK(xrt_tensor_info(t, &info) == XRT_OK);
  xrt_tensor_t* raw = nullptr;
  if (xrt_tensor_contiguous(t, &raw) == XRT_OK) {
    TensorPtr packed(raw);
    xrt_tensor_info_t p = {sizeof p};
    FUZZ_CHECK(xrt_tensor_info(packed.get(), &p) == XRT_OK && p.contiguous);
    FUZZ_CHECK(p.nbytes == info.nbytes);
    if (info.contiguous) FUZZ_CHECK(p.data == info.data);  // the tensor itself
  }
  raw = nullptr;
  if (xrt_tensor_to(t, cpu_device(), nullptr, &raw) == XRT_OK) {
    TensorPtr moved(raw);
    // Back into the original layout (a strided destination), unless read-only.
    FUZZ_CHECK(known_status(xrt_tensor_copy(t, moved.get(), nullptr)));
  }
  // A destination of another dtype or shape must be refused.
  const int64_t other_shape[1] = {in.ConsumeIntegralInRange<int64_t>(0, 7)};
  raw = nullptr;
  if (xrt_tensor_create(cpu_device(), XRT_UINT8, 1, other_shape, &raw) == XRT_OK) {
    TensorPtr other(raw);
    const bool same = info.dtype == XRT_UINT8 && info.ndim == 1 && info.shape[0] == other_shape[0];
    if (!same) FUZZ_CHECK(xrt_tensor_copy(other.get(), t, nullptr) != XRT_OK);
  }
  DLManagedTensorVersioned* exported = nullptr;
  if (xrt_tensor_to_dlpack(t, &exported) == XRT_OK) {
    xrt_tensor_t* view = nullptr;
    if (xrt_tensor_from_dlpack(exported, &view) == XRT_OK) {
      xrt_tensor_info_t v = {sizeof v};
      FUZZ_CHECK(xrt_tensor_info(view, &v) == XRT_OK && v.data == info.data);
      xrt_tensor_release(view);
    } else {
      exported->deleter(exported);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int mode = in.ConsumeIntegralInRange<int>(0, 2);  // create, zeros, wrap
  // Mostly codes near the valid ones, sometimes any int32 (the enum is int32
  // in C++ too, so every code is a value the library must read and refuse).
  const int32_t dtype = in.ConsumeBool()
                            ? in.ConsumeIntegralInRange<int32_t>(-1, XRT_DTYPE_COUNT + 1)
                            : in.ConsumeIntegral<int32_t>();
  const int32_t ndim = in.ConsumeBool() ? in.ConsumeIntegralInRange<int32_t>(0, XRT_MAX_DIMS)
                                        : in.ConsumeIntegral<int32_t>();
  int64_t shape[XRT_MAX_DIMS] = {}, strides[XRT_MAX_DIMS] = {};
  for (int64_t& extent : shape) extent = fuzz_extent(in, 5);
  for (int64_t& stride : strides) stride = fuzz_stride(in, 40);
  const bool row_major = in.ConsumeBool();
  const bool null_shape = in.ConsumeIntegralInRange<int>(0, 15) == 0;

  bool valid = false;
  const uint64_t bytes = expected_bytes(dtype, ndim, shape, &valid);
  if (valid && bytes > kMaxBytes) return 0;
  const int64_t* shape_arg = null_shape ? nullptr : shape;
  if (null_shape) valid = valid && ndim == 0;

  xrt_tensor_t* raw = nullptr;
  xrt_status_t status;
  if (mode < 2) {
    status = (mode == 0 ? xrt_tensor_create : xrt_tensor_zeros)(
        cpu_device(), static_cast<xrt_dtype_t>(dtype), ndim, shape_arg, &raw);
  } else {
    // Wrapped memory must hold every element the strides reach; that is the
    // caller's promise, so only such views are handed over.
    alignas(64) static uint8_t buffer[kBufferBytes];
    size_t item = 0;
    uint64_t start = 0;
    if (valid) xrt_dtype_size(static_cast<xrt_dtype_t>(dtype), &item);
    const int64_t* strides_arg = row_major ? nullptr : strides;
    if (valid && !row_major && !place_view(ndim, shape, strides, item, kBufferBytes, &start))
      return 0;
    if (valid && row_major && bytes > kBufferBytes) return 0;
    int deleted = 0;
    auto count = [](void*, void* context) { ++*static_cast<int*>(context); };
    status = xrt_tensor_wrap(cpu_device(), static_cast<xrt_dtype_t>(dtype), ndim, shape_arg,
                             strides_arg, buffer + start, count, &deleted, &raw);
    if (status == XRT_OK) {
      check_info(raw, dtype, ndim, shape, bytes);
      exercise(raw, in);
      xrt_tensor_release(raw);
      FUZZ_CHECK(deleted == 1);
    }
    FUZZ_CHECK(status == XRT_OK ? valid : deleted == 0);
    FUZZ_CHECK(known_status(status));
    return 0;
  }
  FUZZ_CHECK(known_status(status));
  FUZZ_CHECK((status == XRT_OK) == valid);
  if (status != XRT_OK) return 0;
  TensorPtr t(raw);
  check_info(t.get(), dtype, ndim, shape, bytes);
  exercise(t.get(), in);
  return 0;
}
