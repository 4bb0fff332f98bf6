// Fuzzes DLPack import: every field of a DLManagedTensorVersioned or a legacy
// DLManagedTensor (version, flags, dtype code/bits/lanes, ndim, shape,
// strides, byte_offset, device type/id) comes from the input, the data
// pointer from a real buffer. The deleter must run exactly once when the
// import succeeds and never when it fails; read-only imports refuse writes.
#include "fuzz_util.h"

namespace {

constexpr size_t kBufferBytes = 1u << 12;
constexpr int64_t kMaxStride = kBufferBytes;  // in elements, so a longer axis cannot fit
alignas(64) uint8_t buffer[kBufferBytes];

int deleter_calls = 0;
void count_versioned(DLManagedTensorVersioned*) { ++deleter_calls; }
void count_legacy(DLManagedTensor*) { ++deleter_calls; }

// True when every element the description reaches lies inside the buffer, so
// reading it (a contiguous copy, an op) is within the producer's promise.
bool inside_buffer(const DLTensor& dl, const int64_t* strides, size_t item) {
  if (dl.data != buffer) return false;
  __int128 low = dl.byte_offset, high = dl.byte_offset;
  for (int32_t i = 0; i < dl.ndim; ++i) {
    if (dl.shape[i] <= 0) return dl.shape[i] == 0;
    if (dl.shape[i] > 1 && (strides[i] > kMaxStride || strides[i] < -kMaxStride))
      return false;
    const __int128 span = static_cast<__int128>(dl.shape[i] - 1) * strides[i] * item;
    (span < 0 ? low : high) += span;
  }
  return low >= 0 && high + item <= kBufferBytes;
}

// Reads and copies an imported tensor in every way the C API offers.
void exercise(xrt_tensor_t* t, bool fits) {
  xrt_tensor_info_t info = {sizeof info};
  FUZZ_CHECK(xrt_tensor_info(t, &info) == XRT_OK);
  if (!fits) return;
  xrt_tensor_t* raw = nullptr;
  if (xrt_tensor_contiguous(t, &raw) == XRT_OK) {
    TensorPtr packed(raw);
    raw = nullptr;
    // Writing back into the imported memory: refused exactly when read-only.
    const xrt_status_t status = xrt_tensor_copy(t, packed.get(), nullptr);
    FUZZ_CHECK(info.read_only ? status != XRT_OK : status == XRT_OK);
    if (xrt_gelu(t, nullptr, &raw) == XRT_OK) xrt_tensor_release(raw);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bool versioned = in.ConsumeBool();
  DLManagedTensorVersioned v{};
  DLManagedTensor legacy{};
  DLTensor& dl = versioned ? v.dl_tensor : legacy.dl_tensor;
  v.version.major = in.ConsumeBool() ? DLPACK_MAJOR_VERSION : in.ConsumeIntegral<uint32_t>();
  v.version.minor = in.ConsumeIntegral<uint32_t>();
  v.flags = in.ConsumeIntegral<uint64_t>() & (in.ConsumeBool() ? 0x3 : ~0ull);

  dl.dtype.code = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint8_t>(0, 6) : in.ConsumeIntegral<uint8_t>();
  static const uint8_t kBits[] = {8, 16, 32, 64};
  dl.dtype.bits = in.ConsumeBool() ? kBits[in.ConsumeIntegralInRange<int>(0, 3)] : in.ConsumeIntegral<uint8_t>();
  dl.dtype.lanes = in.ConsumeIntegralInRange<int>(0, 7) ? 1 : in.ConsumeIntegral<uint16_t>();
  dl.ndim = in.ConsumeBool() ? in.ConsumeIntegralInRange<int32_t>(0, XRT_MAX_DIMS + 1)
                             : in.ConsumeIntegral<int32_t>();
  dl.device.device_type = static_cast<DLDeviceType>(
      in.ConsumeIntegralInRange<int>(0, 3) ? in.ConsumeIntegralInRange<int>(1, 3) : in.ConsumeIntegral<int32_t>());
  dl.device.device_id = in.ConsumeIntegralInRange<int>(0, 3) ? 0 : in.ConsumeIntegral<int32_t>();
  dl.byte_offset = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 64) : in.ConsumeIntegral<uint64_t>();

  int64_t shape[XRT_MAX_DIMS + 1] = {}, strides[XRT_MAX_DIMS + 1] = {};
  for (int64_t& extent : shape) extent = fuzz_extent(in, 6);
  for (int64_t& stride : strides) stride = fuzz_stride(in, 48);
  // The description's arrays are sized for ndim up to XRT_MAX_DIMS + 1; a
  // larger ndim must be refused before they are read.
  const bool huge_ndim = dl.ndim < 0 || dl.ndim > XRT_MAX_DIMS + 1;
  dl.shape = in.ConsumeIntegralInRange<int>(0, 15) || huge_ndim ? shape : nullptr;
  const bool row_major = in.ConsumeBool();
  dl.strides = row_major ? nullptr : strides;
  dl.data = in.ConsumeIntegralInRange<int>(0, 15) ? buffer : nullptr;

  deleter_calls = 0;
  xrt_tensor_t* raw = nullptr;
  xrt_status_t status;
  if (versioned) {
    v.deleter = in.ConsumeBool() ? count_versioned : nullptr;
    status = xrt_tensor_from_dlpack(&v, &raw);
  } else {
    legacy.deleter = in.ConsumeBool() ? count_legacy : nullptr;
    status = xrt_tensor_from_dlpack_legacy(&legacy, &raw);
  }
  FUZZ_CHECK(known_status(status));
  FUZZ_CHECK(deleter_calls == 0);
  if (status != XRT_OK) return 0;

  // Accepted descriptions are ones the runtime can describe back.
  xrt_tensor_info_t info = {sizeof info};
  FUZZ_CHECK(xrt_tensor_info(raw, &info) == XRT_OK);
  FUZZ_CHECK(info.ndim == dl.ndim && dl.ndim >= 0 && dl.ndim <= XRT_MAX_DIMS);
  FUZZ_CHECK(info.read_only == (versioned && (v.flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0));
  int64_t row_major_strides[XRT_MAX_DIMS];
  int64_t stride = 1;
  for (int32_t i = dl.ndim - 1; i >= 0; --i) {
    row_major_strides[i] = stride;
    // Wraps harmlessly where a zero extent makes the strides irrelevant.
    if (dl.shape[i] > 0) stride = static_cast<int64_t>(static_cast<uint64_t>(stride) * dl.shape[i]);
  }
  size_t item = 0;
  FUZZ_CHECK(xrt_dtype_size(info.dtype, &item) == XRT_OK && item * 8 == dl.dtype.bits);
  exercise(raw, inside_buffer(dl, row_major ? row_major_strides : strides, item));
  const bool counted = versioned ? v.deleter != nullptr : legacy.deleter != nullptr;
  xrt_tensor_release(raw);
  FUZZ_CHECK(deleter_calls == (counted ? 1 : 0));
  return 0;
}
