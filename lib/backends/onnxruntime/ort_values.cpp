#include "ort_values.h"

#include <array>
#include <cstring>
#include <iterator>

#include "dtype_table.h"

namespace xrt::ort {
namespace {

struct DtypeMap {
  xrt_dtype_t dtype;
  int element;
};

// Indexed by xrt_dtype_t.
constexpr DtypeMap kDtypes[] = {
    {XRT_BOOL, kElemBool},
    {XRT_UINT8, kElemUint8},
    {XRT_INT8, kElemInt8},
    {XRT_INT16, kElemInt16},
    {XRT_INT32, kElemInt32},
    {XRT_INT64, kElemInt64},
    {XRT_FLOAT16, kElemFloat16},
    {XRT_BFLOAT16, kElemBfloat16},
    {XRT_FLOAT32, kElemFloat},
    {XRT_FLOAT64, kElemDouble},
    {XRT_UINT16, kElemUint16},
    {XRT_UINT32, kElemUint32},
    {XRT_UINT64, kElemUint64},
    {XRT_FLOAT8_E4M3FN, kElemFloat8E4M3FN},
    {XRT_FLOAT8_E5M2, kElemFloat8E5M2},
    {XRT_FLOAT8_E4M3FNUZ, kElemFloat8E4M3FNUZ},
    {XRT_FLOAT8_E5M2FNUZ, kElemFloat8E5M2FNUZ},
};
static_assert(std::size(kDtypes) == XRT_DTYPE_COUNT, "every dtype needs an ONNX element type");

// ONNX types nest a few levels; ORT never hands back deeper trees.
constexpr int kMaxDepth = 32;

size_t byte_size(const xrt_kernel_tensor_t& t) {
  size_t bytes = dtypes::size_of(t.dtype);
  for (int32_t d = 0; d < t.ndim; ++d) bytes *= static_cast<size_t>(t.shape[d]);
  return bytes;
}

}  // namespace

bool dtype_of(int element, xrt_dtype_t* out) {
  for (const DtypeMap& d : kDtypes) {
    if (d.element == element) {
      *out = d.dtype;
      return true;
    }
  }
  return false;
}

int element_of(xrt_dtype_t dtype) { return kDtypes[dtype].element; }

const char* element_name(int element) {
  static constexpr const char* kNames[] = {
      "undefined",  "float",          "uint8",      "int8",           "uint16",
      "int16",      "int32",          "int64",      "string",         "bool",
      "float16",    "double",         "uint32",     "uint64",         "complex64",
      "complex128", "bfloat16",       "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
      "float8e5m2fnuz", "uint4",      "int4",       "float4e2m1",     "uint2",
      "int2",       "float8e8m0",
  };
  if (element >= 0 && element < static_cast<int>(std::size(kNames))) return kNames[element];
  return "unknown";
}

xrt_status_t type_name(const OrtTypeInfo* info, std::string* out, char* error, size_t capacity) {
  const Functions& f = api();
  int kind = 0;
  if (xrt_status_t s = take(f.GetOnnxTypeFromTypeInfo(info, &kind), error, capacity); s != XRT_OK)
    return s;
  OrtTypeInfo* raw_inner = nullptr;
  OrtStatus* status = nullptr;
  std::string prefix;
  switch (kind) {
    case kValueTensor: {
      const OrtTensorTypeAndShapeInfo* tensor = nullptr;
      int element = 0;
      status = f.CastTypeInfoToTensorInfo(info, &tensor);
      if (!status) status = f.GetTensorElementType(tensor, &element);
      if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
      *out = std::string("tensor(") + element_name(element) + ")";
      return XRT_OK;
    }
    case kValueSequence: {
      const OrtSequenceTypeInfo* seq = nullptr;
      status = f.CastTypeInfoToSequenceTypeInfo(info, &seq);
      if (!status) status = f.GetSequenceElementType(seq, &raw_inner);
      prefix = "seq(";
      break;
    }
    case kValueMap: {
      const OrtMapTypeInfo* map = nullptr;
      int key = 0;
      status = f.CastTypeInfoToMapTypeInfo(info, &map);
      if (!status) status = f.GetMapKeyType(map, &key);
      if (!status) status = f.GetMapValueType(map, &raw_inner);
      prefix = std::string("map(") + element_name(key) + ",";
      break;
    }
    case kValueOptional: {
      const OrtOptionalTypeInfo* optional = nullptr;
      status = f.CastTypeInfoToOptionalTypeInfo(info, &optional);
      if (!status) status = f.GetOptionalContainedTypeInfo(optional, &raw_inner);
      prefix = "optional(";
      break;
    }
    default:
      return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "onnxruntime: values of ONNX type kind %d (opaque or sparse) are not supported",
                  kind);
  }
  Owned<OrtTypeInfo> inner(raw_inner);
  if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
  std::string inner_name;
  if (xrt_status_t s = type_name(inner.get(), &inner_name, error, capacity); s != XRT_OK) return s;
  *out = prefix + inner_name + ")";
  return XRT_OK;
}

xrt_status_t value_to_ort(const xrt_plugin_value_t* value, const char* name,
                          const OrtMemoryInfo* memory,
                          std::vector<Owned<OrtValue>>* made, OrtValue** out, char* error,
                          size_t capacity) {
  const Functions& f = api();
  OrtValue* raw = nullptr;
  switch (value->kind) {
    case XRT_VALUE_TENSOR: {
      const xrt_kernel_tensor_t& t = value->tensor;
      if (!dtypes::known(t.dtype))
        return fail(XRT_ERROR_INVALID_ARGUMENT, error, capacity, "onnxruntime: bad dtype");
      if (xrt_status_t s = take(f.CreateTensorWithDataAsOrtValue(
                                    memory, t.data, byte_size(t), t.shape,
                                    static_cast<size_t>(t.ndim), element_of(t.dtype), &raw),
                                error, capacity);
          s != XRT_OK)
        return s;
      break;
    }
    case XRT_VALUE_STRINGS: {
      OrtAllocator* allocator = nullptr;
      OrtStatus* status = f.GetAllocatorWithDefaultOptions(&allocator);
      if (!status)
        status = f.CreateTensorAsOrtValue(allocator, value->tensor.shape,
                                          static_cast<size_t>(value->tensor.ndim), kElemString,
                                          &raw);
      if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
      made->emplace_back(raw);
      size_t count = 1;
      for (int32_t d = 0; d < value->tensor.ndim; ++d)
        count *= static_cast<size_t>(value->tensor.shape[d]);
      for (size_t i = 0; i < count; ++i) {
        char* buffer = nullptr;
        if (xrt_status_t s = take(f.GetResizedStringTensorElementBuffer(raw, i, value->lengths[i],
                                                                         &buffer),
                                  error, capacity);
            s != XRT_OK)
          return s;
        if (value->lengths[i]) std::memcpy(buffer, value->strings[i], value->lengths[i]);
      }
      *out = raw;
      return XRT_OK;
    }
    case XRT_VALUE_OPTIONAL:
      // ORT takes an optional's value as it is; an absent one is left out
      // of the run's inputs by the caller.
      if (value->num_items == 0)
        return fail(XRT_ERROR_INTERNAL, error, capacity, "onnxruntime: absent optional");
      return value_to_ort(value->items[0], name, memory, made, out, error, capacity);
    default: {
      if (value->kind == XRT_VALUE_SEQUENCE && value->num_items == 0)
        return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                    "onnxruntime: input '%s' is an empty sequence, which ONNX Runtime's C API "
                    "cannot build", name);
      // ORT copies a sequence's or map's tensors with host memcpy.
      if (memory != cpu_memory())
        return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                    "onnxruntime: input '%s' is a sequence or map, which runs only in CPU "
                    "sessions",
                    name);
      std::vector<const OrtValue*> items(value->num_items);
      for (size_t i = 0; i < value->num_items; ++i) {
        OrtValue* item = nullptr;
        if (xrt_status_t s =
                value_to_ort(value->items[i], name, memory, made, &item, error, capacity);
            s != XRT_OK)
          return s;
        items[i] = item;
      }
      const int kind = value->kind == XRT_VALUE_MAP ? kValueMap : kValueSequence;
      if (xrt_status_t s =
              take(f.CreateValue(items.data(), items.size(), kind, &raw), error, capacity);
          s != XRT_OK)
        return s;
      break;
    }
  }
  made->emplace_back(raw);
  *out = raw;
  return XRT_OK;
}

xrt_plugin_value_t& OutputTree::new_node(xrt_value_kind_t kind) {
  xrt_plugin_value_t& n = nodes_.emplace_back();
  n = xrt_plugin_value_t{};
  n.struct_size = sizeof(xrt_plugin_value_t);
  n.kind = kind;
  return n;
}

xrt_status_t OutputTree::build(OrtValue* value, bool optional, const xrt_plugin_value_t** out,
                               char* error, size_t capacity) {
  if (!optional) return node(value, 0, out, error, capacity);
  int has = 0;
  if (xrt_status_t s = take(api().HasValue(value, &has), error, capacity); s != XRT_OK) return s;
  xrt_plugin_value_t& wrapper = new_node(XRT_VALUE_OPTIONAL);
  auto& items = items_.emplace_back();
  if (has) {
    const xrt_plugin_value_t* inner = nullptr;
    if (xrt_status_t s = node(value, 1, &inner, error, capacity); s != XRT_OK) return s;
    items.push_back(inner);
  }
  wrapper.items = items.data();
  wrapper.num_items = items.size();
  *out = &wrapper;
  return XRT_OK;
}

xrt_status_t OutputTree::node(OrtValue* value, int depth, const xrt_plugin_value_t** out,
                              char* error, size_t capacity) {
  const Functions& f = api();
  if (depth >= kMaxDepth)
    return fail(XRT_ERROR_BACKEND, error, capacity, "onnxruntime: an output nests too deep");
  int kind = 0;
  if (xrt_status_t s = take(f.GetValueType(value, &kind), error, capacity); s != XRT_OK) return s;
  if (kind == kValueTensor) {
    OrtTensorTypeAndShapeInfo* raw_info = nullptr;
    if (xrt_status_t s = take(f.GetTensorTypeAndShape(value, &raw_info), error, capacity);
        s != XRT_OK)
      return s;
    Owned<OrtTensorTypeAndShapeInfo> info(raw_info);
    int element = 0;
    size_t ndim = 0;
    OrtStatus* status = f.GetTensorElementType(raw_info, &element);
    if (!status) status = f.GetDimensionsCount(raw_info, &ndim);
    if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
    if (ndim > XRT_MAX_DIMS)
      return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                  "onnxruntime: an output has %zu dimensions; at most %d are supported", ndim,
                  XRT_MAX_DIMS);
    std::vector<int64_t>& shape = shapes_.emplace_back(ndim);
    if (xrt_status_t s = take(f.GetDimensions(raw_info, shape.data(), ndim), error, capacity);
        s != XRT_OK)
      return s;
    size_t count = 1;
    for (int64_t d : shape) count *= static_cast<size_t>(d);
    const bool strings = element == kElemString;
    xrt_plugin_value_t& n = new_node(strings ? XRT_VALUE_STRINGS : XRT_VALUE_TENSOR);
    n.tensor.ndim = static_cast<int32_t>(ndim);
    n.tensor.shape = shape.data();
    if (!strings) {
      if (!dtype_of(element, &n.tensor.dtype))
        return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                    "onnxruntime: an output has element type %s, which xpuruntime tensors "
                    "cannot hold", element_name(element));
      if (xrt_status_t s = take(f.GetTensorMutableData(value, &n.tensor.data), error, capacity);
          s != XRT_OK)
        return s;
      n.tensor.device_kind = XRT_DEVICE_CPU;
      *out = &n;
      return XRT_OK;
    }
    size_t total = 0;
    std::vector<size_t> offsets(count);
    std::string& bytes = bytes_.emplace_back();
    status = f.GetStringTensorDataLength(value, &total);
    if (!status) {
      bytes.resize(total);
      status = f.GetStringTensorContent(value, bytes.data(), total, offsets.data(), count);
    }
    if (xrt_status_t s = take(status, error, capacity); s != XRT_OK) return s;
    std::vector<const char*>& ptrs = strings_.emplace_back(count);
    std::vector<size_t>& lengths = lengths_.emplace_back(count);
    for (size_t i = 0; i < count; ++i) {
      const size_t end = i + 1 < count ? offsets[i + 1] : total;
      ptrs[i] = bytes.data() + offsets[i];
      lengths[i] = end - offsets[i];
    }
    n.strings = ptrs.data();
    n.lengths = lengths.data();
    *out = &n;
    return XRT_OK;
  }
  if (kind != kValueSequence && kind != kValueMap)
    return fail(XRT_ERROR_UNSUPPORTED, error, capacity,
                "onnxruntime: an output is of ONNX type kind %d, which is not supported", kind);
  size_t count = 0;
  if (kind == kValueMap) {
    count = 2;
  } else if (xrt_status_t s = take(f.GetValueCount(value, &count), error, capacity); s != XRT_OK) {
    return s;
  }
  OrtAllocator* allocator = nullptr;
  if (xrt_status_t s = take(f.GetAllocatorWithDefaultOptions(&allocator), error, capacity);
      s != XRT_OK)
    return s;
  xrt_plugin_value_t& n = new_node(kind == kValueMap ? XRT_VALUE_MAP : XRT_VALUE_SEQUENCE);
  auto& items = items_.emplace_back(count);
  for (size_t i = 0; i < count; ++i) {
    OrtValue* part = nullptr;
    if (xrt_status_t s = take(f.GetValue(value, static_cast<int>(i), allocator, &part), error,
                              capacity);
        s != XRT_OK)
      return s;
    parts_.emplace_back(part);
    if (xrt_status_t s = node(part, depth + 1, &items[i], error, capacity); s != XRT_OK) return s;
  }
  n.items = items.data();
  n.num_items = items.size();
  *out = &n;
  return XRT_OK;
}

}  // namespace xrt::ort
