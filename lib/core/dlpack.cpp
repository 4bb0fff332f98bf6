#include "dlpack.h"

#include <iterator>
#include <string>

#include "dtype.h"
#include "enum_code.h"
#include "error.h"
#include "runtime.h"

namespace xrt {

namespace {

// DLPack's type of each dtype, indexed by code; imports search it, so each
// (code, bits) pair names one dtype. Lanes are always 1.
constexpr DLDataType kDLTypes[] = {
    {kDLBool, 8, 1},            // bool
    {kDLUInt, 8, 1},            // uint8
    {kDLInt, 8, 1},             // int8
    {kDLInt, 16, 1},            // int16
    {kDLInt, 32, 1},            // int32
    {kDLInt, 64, 1},            // int64
    {kDLFloat, 16, 1},          // float16
    {kDLBfloat, 16, 1},         // bfloat16
    {kDLFloat, 32, 1},          // float32
    {kDLFloat, 64, 1},          // float64
    {kDLUInt, 16, 1},           // uint16
    {kDLUInt, 32, 1},           // uint32
    {kDLUInt, 64, 1},           // uint64
    {kDLFloat8_e4m3fn, 8, 1},   // float8_e4m3fn
    {kDLFloat8_e5m2, 8, 1},     // float8_e5m2
    {kDLFloat8_e4m3fnuz, 8, 1}, // float8_e4m3fnuz
    {kDLFloat8_e5m2fnuz, 8, 1}, // float8_e5m2fnuz
};
static_assert(std::size(kDLTypes) == XRT_DTYPE_COUNT, "every dtype needs a DLPack type");

DLDataType to_dl_dtype(xrt_dtype_t dtype) { return kDLTypes[dtype]; }

// DLPack's type as numpy would name it ("complex64", "float8_e3m4"), for
// messages; codes past kDLBool carry their width in the name.
std::string dl_type_name(DLDataType t) {
  static const char* const names[] = {
      "int",         "uint",        "float",         "opaque handle",      "bfloat",
      "complex",     "bool",        "float8_e3m4",   "float8_e4m3",        "float8_e4m3b11fnuz",
      "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
  };
  if (t.code >= std::size(names)) return "unknown";
  return names[t.code] + (t.code <= kDLBool ? std::to_string(t.bits) : std::string());
}

xrt_dtype_t from_dl_dtype(DLDataType t) {
  if (t.lanes != 1)
    fail(XRT_ERROR_UNSUPPORTED, "DLPack dtype with ", t.lanes, " lanes is not supported (expected 1)");
  for (int code = 0; code < XRT_DTYPE_COUNT; ++code) {
    if (kDLTypes[code].code == t.code && kDLTypes[code].bits == t.bits)
      return static_cast<xrt_dtype_t>(code);
  }
  std::string known;
  for (int code = 0; code < XRT_DTYPE_COUNT; ++code)
    known += std::string(code ? ", " : "") + dtype_name(static_cast<xrt_dtype_t>(code));
  fail(XRT_ERROR_UNSUPPORTED, "DLPack dtype ", dl_type_name(t), " (code ", static_cast<int>(t.code),
       ", ", static_cast<int>(t.bits), " bits) is not supported (expected one of ", known, ")");
}

DLDevice to_dl_device(const xrt_device* device) {
  if (device->host_memory) return {kDLCPU, 0};
  if (device->kind == XRT_DEVICE_CUDA) return {kDLCUDA, device->index};
  fail(XRT_ERROR_UNSUPPORTED, "DLPack has no device type for ", device->name,
       " (exported are host-memory and cuda devices)");
}

xrt_device* from_dl_device(const DLDevice& d) {
  // The producer may have stored any integer in the enum.
  const int32_t type = enum_code(d.device_type);
  switch (type) {
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
      fail(XRT_ERROR_UNSUPPORTED, "DLPack device type ", type, " is not supported (expected ",
           kDLCPU, " CPU, ", kDLCUDAHost, " CUDA host or ", kDLCUDA, " CUDA)");
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
  XRT_REQUIRE(dl.ndim >= 0 && dl.ndim <= XRT_MAX_DIMS, "DLPack tensor has ", dl.ndim,
              " dimensions (expected 0..", XRT_MAX_DIMS, ")");
  XRT_REQUIRE(dl.ndim == 0 || dl.shape != nullptr, "DLPack tensor has no shape");
  const xrt_dtype_t dtype = from_dl_dtype(dl.dtype);
  xrt_device* device = from_dl_device(dl.device);
  char* data = static_cast<char*>(dl.data);
  if (data) {
    const uintptr_t room = UINTPTR_MAX - reinterpret_cast<uintptr_t>(data);
    XRT_REQUIRE(dl.byte_offset <= room, "DLPack byte_offset ", dl.byte_offset,
                " wraps the data pointer ", dl.data, " (expected at most ", room, ")");
    data += dl.byte_offset;
  }
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
  XRT_REQUIRE(managed != nullptr, "DLPack managed tensor is NULL");
  if (managed->version.major != DLPACK_MAJOR_VERSION)
    fail(XRT_ERROR_UNSUPPORTED, "DLPack version ", managed->version.major, ".",
         managed->version.minor, " is not supported (expected ", DLPACK_MAJOR_VERSION, ".x)");
  return import(managed, (managed->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0);
}

xrt_tensor* import_dlpack_legacy(DLManagedTensor* managed) {
  XRT_REQUIRE(managed != nullptr, "DLPack managed tensor is NULL");
  return import(managed, false);
}

}  // namespace xrt
