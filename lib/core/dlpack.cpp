#include "dlpack.h"

#include <cstdint>
#include <cstring>

#include "dtype.h"
#include "error.h"
#include "runtime.h"

namespace xrt {

namespace {

DLDataType to_dl_dtype(xrt_dtype_t dtype) {
  const uint8_t bits = static_cast<uint8_t>(dtype_size(dtype) * 8);
  switch (dtype) {
    case XRT_BOOL: return {kDLBool, 8, 1};
    case XRT_UINT8: return {kDLUInt, 8, 1};
    case XRT_INT8: case XRT_INT16: case XRT_INT32: case XRT_INT64: return {kDLInt, bits, 1};
    case XRT_BFLOAT16: return {kDLBfloat, 16, 1};
    default: return {kDLFloat, bits, 1};
  }
}

xrt_dtype_t from_dl_dtype(DLDataType t) {
  if (t.lanes != 1)
    fail(XRT_ERROR_UNSUPPORTED, "DLPack dtype with ", t.lanes, " lanes is not supported (expected 1)");
  switch (t.code) {
    case kDLBool:
      if (t.bits == 8) return XRT_BOOL;
      break;
    case kDLUInt:
      if (t.bits == 8) return XRT_UINT8;
      break;
    case kDLInt:
      if (t.bits == 8) return XRT_INT8;
      if (t.bits == 16) return XRT_INT16;
      if (t.bits == 32) return XRT_INT32;
      if (t.bits == 64) return XRT_INT64;
      break;
    case kDLFloat:
      if (t.bits == 16) return XRT_FLOAT16;
      if (t.bits == 32) return XRT_FLOAT32;
      if (t.bits == 64) return XRT_FLOAT64;
      break;
    case kDLBfloat:
      if (t.bits == 16) return XRT_BFLOAT16;
      break;
    default:
      break;
  }
  static const char* const codes[] = {"int", "uint", "float", "opaque handle", "bfloat", "complex", "bool"};
  fail(XRT_ERROR_UNSUPPORTED, "DLPack dtype ", t.code < 7 ? codes[t.code] : "unknown",
       static_cast<int>(t.bits),
       " (code ", static_cast<int>(t.code), ", ", static_cast<int>(t.bits),
       " bits) is not supported (expected bool, uint8, int8-64, float16/32/64 or bfloat16)");
}

DLDevice to_dl_device(const xrt_device* device) {
  if (device->kind == XRT_DEVICE_CUDA) return {kDLCUDA, device->index};
  return {kDLCPU, 0};
}

xrt_device* from_dl_device(DLDevice d) {
  // Read as an integer: producers may send types this header does not name,
  // and loading such a value as DLDeviceType is undefined in C++ (the enum
  // has no fixed underlying type here).
  static_assert(sizeof d.device_type == sizeof(int32_t), "DLDeviceType is an int32");
  int32_t device_type;
  std::memcpy(&device_type, &d.device_type, sizeof device_type);
  switch (device_type) {
    case kDLCPU:
    case kDLCUDAHost:
      return Runtime::get().device_by_name("cpu");
    case kDLCUDA: {
      const std::string name = "cuda:" + std::to_string(d.device_id);
      Runtime& runtime = Runtime::get();
      for (size_t i = 0; i < runtime.device_count(); ++i)
        if (runtime.device_at(i)->name == name) return runtime.device_at(i);
      fail(XRT_ERROR_UNSUPPORTED, "DLPack tensor lives on ", name,
           ", which this runtime does not have (is the CUDA backend loaded? see xrt_backend_info)");
    }
    default:
      fail(XRT_ERROR_UNSUPPORTED, "DLPack device type ", device_type,
           " is not supported (expected CPU, CUDA host or CUDA)");
  }
}

// Owns the exported managed struct together with copies of shape/strides
// and a reference to the tensor.
template <typename Managed>
struct Export {
  Managed managed{};
  int64_t shape[XRT_MAX_DIMS];
  int64_t strides[XRT_MAX_DIMS];
  xrt_tensor* tensor;
};

template <typename Managed>
void delete_export(Managed* managed) {
  auto* holder = static_cast<Export<Managed>*>(managed->manager_ctx);
  tensor_release(holder->tensor);
  delete holder;
}

template <typename Managed>
Export<Managed>* make_export(xrt_tensor* t) {
  auto* holder = new Export<Managed>();
  tensor_retain(t);
  holder->tensor = t;
  for (int32_t i = 0; i < t->ndim; ++i) {
    holder->shape[i] = t->shape[i];
    holder->strides[i] = t->strides[i];
  }
  DLTensor& dl = holder->managed.dl_tensor;
  dl.data = t->data;
  dl.device = to_dl_device(t->device);
  dl.ndim = t->ndim;
  dl.dtype = to_dl_dtype(t->dtype);
  dl.shape = holder->shape;
  dl.strides = holder->strides;
  dl.byte_offset = 0;
  holder->managed.manager_ctx = holder;
  holder->managed.deleter = delete_export<Managed>;
  return holder;
}

template <typename Managed>
void call_deleter(void*, void* context) {
  auto* managed = static_cast<Managed*>(context);
  if (managed->deleter) managed->deleter(managed);
}

template <typename Managed>
xrt_tensor* import(Managed* managed, bool read_only) {
  const DLTensor& dl = managed->dl_tensor;
  require(dl.ndim >= 0 && dl.ndim <= XRT_MAX_DIMS, "DLPack tensor has ", dl.ndim,
          " dimensions (expected 0..", XRT_MAX_DIMS, ")");
  require(dl.ndim == 0 || dl.shape != nullptr, "DLPack tensor has no shape");
  const xrt_dtype_t dtype = from_dl_dtype(dl.dtype);
  xrt_device* device = from_dl_device(dl.device);
  // Added as integers: an offset that wraps the address space cannot point
  // into the producer's memory, and pointer arithmetic that wraps is undefined.
  uintptr_t address = reinterpret_cast<uintptr_t>(dl.data);
  if (address)
    require(!__builtin_add_overflow(address, dl.byte_offset, &address), "DLPack byte_offset ",
            dl.byte_offset, " overflows the data pointer");
  void* data = reinterpret_cast<void*>(address);
  xrt_tensor* t = tensor_wrap(device, dtype, dl.ndim, dl.shape, dl.strides, data,
                              call_deleter<Managed>, managed);
  t->read_only = read_only;
  return t;
}

}  // namespace

DLManagedTensorVersioned* export_dlpack(xrt_tensor* t) {
  auto* holder = make_export<DLManagedTensorVersioned>(t);
  holder->managed.version = {DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION};
  holder->managed.flags = t->read_only ? DLPACK_FLAG_BITMASK_READ_ONLY : 0;
  return &holder->managed;
}

DLManagedTensor* export_dlpack_legacy(xrt_tensor* t) {
  return &make_export<DLManagedTensor>(t)->managed;
}

xrt_tensor* import_dlpack(DLManagedTensorVersioned* managed) {
  require(managed != nullptr, "DLPack managed tensor is NULL");
  if (managed->version.major != DLPACK_MAJOR_VERSION)
    fail(XRT_ERROR_UNSUPPORTED, "DLPack version ", managed->version.major, ".",
         managed->version.minor, " is not supported (expected ", DLPACK_MAJOR_VERSION, ".x)");
  return import(managed, (managed->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0);
}

xrt_tensor* import_dlpack_legacy(DLManagedTensor* managed) {
  require(managed != nullptr, "DLPack managed tensor is NULL");
  return import(managed, false);
}

}  // namespace xrt
