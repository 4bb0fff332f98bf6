#include "session_values.h"

#include <cstring>
#include <iterator>

#include "dtype.h"
#include "error.h"
#include "runtime.h"
#include "struct_access.h"

namespace xrt {

namespace {

// Deeper trees are refused: ONNX types nest a few levels, and a cycle in a
// caller's or plugin's tree must end as an error, not a stack overflow.
constexpr int kMaxDepth = 32;

const char* kind_label(xrt_value_kind_t kind) {
  switch (kind) {
    case XRT_VALUE_TENSOR: return "tensor";
    case XRT_VALUE_STRINGS: return "string tensor";
    case XRT_VALUE_SEQUENCE: return "sequence";
    case XRT_VALUE_MAP: return "map";
    case XRT_VALUE_OPTIONAL: return "optional";
  }
  return "unknown";
}

bool kind_known(xrt_value_kind_t kind) {
  return static_cast<int32_t>(kind) >= XRT_VALUE_TENSOR &&
         static_cast<int32_t>(kind) <= XRT_VALUE_OPTIONAL;
}

// Where `type` ends: the end of its name and balanced parentheses.
size_t type_end(const std::string& type, size_t at) {
  int depth = 0;
  for (; at < type.size(); ++at) {
    const char c = type[at];
    if (c == '(') ++depth;
    if (c == ')' && depth-- == 0) return at;
    if (c == ',' && depth == 0) return at;
  }
  return at;
}

// The element count a STRINGS shape says, checked like a tensor's.
int64_t strings_count(int32_t ndim, const int64_t* shape, const std::string& where) {
  if (ndim < 0 || ndim > XRT_MAX_DIMS || (ndim > 0 && !shape))
    fail(XRT_ERROR_INVALID_ARGUMENT, where, " has a bad shape (rank ", ndim, ")");
  return checked_numel(ndim, shape);
}

// "map(int64,tensor(float))" from the keys' and values' types.
std::string map_type(const std::string& keys, const std::string& values, const std::string& where,
                     const char* blame_prefix, xrt_status_t status) {
  const char* key = keys == "tensor(int64)" ? "int64" : keys == "tensor(string)" ? "string"
                                                                                 : nullptr;
  if (!key) fail(status, blame_prefix, where, " has keys of type ", keys, "; map keys are int64 or string");
  return std::string("map(") + key + "," + values + ")";
}

}  // namespace

std::string tensor_type_name(xrt_dtype_t dtype) {
  static constexpr const char* kNames[] = {
      "bool",     "uint8",    "int8",   "int16",  "int32",  "int64",
      "float16",  "bfloat16", "float",  "double", "uint16", "uint32",
      "uint64",   "float8e4m3fn", "float8e5m2", "float8e4m3fnuz", "float8e5m2fnuz",
  };
  static_assert(std::size(kNames) == XRT_DTYPE_COUNT, "every dtype needs its ONNX name");
  return std::string("tensor(") + kNames[checked_dtype(dtype, "tensor type")] + ")";
}

bool type_fits(const std::string& given, const std::string& want) {
  size_t i = 0, j = 0;
  while (i < given.size() && j < want.size()) {
    if (given[i] == '?') {
      j = type_end(want, j);
      ++i;
      continue;
    }
    if (given[i] != want[j]) return false;
    ++i;
    ++j;
  }
  return i == given.size() && j == want.size();
}

const xrt_plugin_value_t* InputValues::add(const xrt_value_t* value, const xrt_device* device,
                                           const std::string& name, std::string* type) {
  return view(value, device, "input '" + name + "'", 0, type);
}

const xrt_plugin_value_t* InputValues::view(const xrt_value_t* v, const xrt_device* device,
                                            const std::string& where, int depth,
                                            std::string* type) {
  XRT_REQUIRE(v != nullptr, where, " is NULL");
  XRT_REQUIRE(depth < kMaxDepth, where, " nests deeper than ", kMaxDepth, " levels");
  check_struct_size(v->struct_size, XRT_FIELD_END(xrt_value_t, num_items), "xrt_value_t");
  XRT_REQUIRE(kind_known(v->kind), where, " has unknown value kind ",
              static_cast<int32_t>(v->kind));
  xrt_plugin_value_t& out = nodes_.emplace_back();
  out = xrt_plugin_value_t{};
  out.struct_size = sizeof(xrt_plugin_value_t);
  out.kind = v->kind;
  switch (v->kind) {
    case XRT_VALUE_TENSOR: {
      const xrt_tensor* t = v->tensor;
      XRT_REQUIRE(t != nullptr, where, " is a tensor value with a NULL tensor");
      XRT_REQUIRE(t->device == device, where, " is on ", t->device->name,
                  ", the session runs on ", device->name);
      if (!t->contiguous) {
        tensors_.emplace_back(tensor_contiguous(t));
        t = tensors_.back().get();
      }
      out.tensor = xrt_kernel_tensor_t{t->data,    t->dtype,         t->ndim,         t->shape,
                                       t->strides, t->device->kind, t->device->index};
      *type = tensor_type_name(t->dtype);
      return &out;
    }
    case XRT_VALUE_STRINGS: {
      const int64_t n = strings_count(v->ndim, v->shape, where);
      XRT_REQUIRE(n == 0 || (v->strings && v->lengths), where,
                  " is a string tensor with NULL strings or lengths");
      for (int64_t i = 0; i < n; ++i)
        XRT_REQUIRE(v->strings[i] || v->lengths[i] == 0, where, " has a NULL string at element ",
                    i, " of length ", v->lengths[i]);
      out.tensor.ndim = v->ndim;
      out.tensor.shape = v->shape;
      out.strings = v->strings;
      out.lengths = v->lengths;
      *type = "tensor(string)";
      return &out;
    }
    default:
      break;
  }
  XRT_REQUIRE(v->num_items == 0 || v->items, where, " has ", v->num_items, " items but NULL items");
  if (v->kind == XRT_VALUE_MAP)
    XRT_REQUIRE(v->num_items == 2, where, " is a map with ", v->num_items,
                " items; a map has 2 (keys, values)");
  if (v->kind == XRT_VALUE_OPTIONAL)
    XRT_REQUIRE(v->num_items <= 1, where, " is an optional with ", v->num_items,
                " items; it holds 0 or 1");
  auto& items = items_.emplace_back(v->num_items);
  std::vector<std::string> types(v->num_items);
  for (size_t i = 0; i < v->num_items; ++i) {
    const std::string item = v->kind == XRT_VALUE_MAP
                                 ? where + (i == 0 ? " (keys)" : " (values)")
                                 : where + " item " + std::to_string(i);
    items[i] = view(v->items[i], device, item, depth + 1, &types[i]);
  }
  out.items = items.data();
  out.num_items = items.size();
  if (v->kind == XRT_VALUE_SEQUENCE) {
    for (size_t i = 1; i < types.size(); ++i)
      XRT_REQUIRE(types[i] == types[0], where, " mixes ", types[0], " (item 0) and ", types[i],
                  " (item ", i, "); a sequence holds one type");
    *type = "seq(" + (types.empty() ? std::string("?") : types[0]) + ")";
  } else if (v->kind == XRT_VALUE_OPTIONAL) {
    *type = "optional(" + (types.empty() ? std::string("?") : types[0]) + ")";
  } else {
    const xrt_plugin_value_t* keys = items[0];
    const xrt_plugin_value_t* values = items[1];
    XRT_REQUIRE(keys->kind != XRT_VALUE_TENSOR || keys->tensor.ndim == 1, where,
                " has keys of rank ", keys->tensor.ndim, "; map keys are 1-D");
    XRT_REQUIRE(values->kind == XRT_VALUE_TENSOR || values->kind == XRT_VALUE_STRINGS, where,
                " has values of kind ", kind_label(values->kind),
                "; map values are a 1-D tensor");
    XRT_REQUIRE(keys->tensor.ndim == 1 && values->tensor.ndim == 1 &&
                    keys->tensor.shape[0] == values->tensor.shape[0],
                where, " has keys of shape ", shape_string(keys->tensor.ndim, keys->tensor.shape),
                " and values of shape ", shape_string(values->tensor.ndim, values->tensor.shape),
                "; both must be 1-D of one length");
    *type = map_type(types[0], types[1], where, "", XRT_ERROR_INVALID_ARGUMENT);
  }
  return &out;
}

namespace {

// A tree the runtime made: every pointer in the public fields points into
// its own storage.
struct OwnedValue : xrt_value_t {
  TensorRef owned_tensor;
  std::vector<int64_t> shape_store;
  std::vector<std::string> string_store;
  std::vector<const char*> string_ptrs;
  std::vector<size_t> length_store;
  std::vector<std::unique_ptr<OwnedValue>> children;
  std::vector<const xrt_value_t*> item_ptrs;
};

struct PluginTree {
  xrt_device* device;
  xrt_device* host;
  const char* backend;
};

[[noreturn]] void malformed(const PluginTree& tree, const std::string& where,
                            const std::string& why) {
  fail(XRT_ERROR_BACKEND, "backend '", tree.backend, "' handed back ", where, " ", why);
}

std::unique_ptr<OwnedValue> copy_tree(const PluginTree& tree, const xrt_plugin_value_t* v,
                                      const std::string& where, int depth, std::string* type) {
  if (!v) malformed(tree, where, "as NULL");
  if (depth >= kMaxDepth) malformed(tree, where, "nested deeper than " + std::to_string(kMaxDepth));
  if (v->struct_size < XRT_FIELD_END(xrt_plugin_value_t, num_items))
    malformed(tree, where, "with struct_size " + std::to_string(v->struct_size));
  if (!kind_known(v->kind))
    malformed(tree, where, "with unknown value kind " + std::to_string(static_cast<int32_t>(v->kind)));
  auto out = std::make_unique<OwnedValue>();
  xrt_value_t& pub = *out;
  pub = xrt_value_t{};
  pub.struct_size = sizeof(xrt_value_t);
  pub.kind = v->kind;
  const xrt_kernel_tensor_t& t = v->tensor;
  if (v->kind == XRT_VALUE_TENSOR || v->kind == XRT_VALUE_STRINGS) {
    if (t.ndim < 0 || t.ndim > XRT_MAX_DIMS || (t.ndim > 0 && !t.shape))
      malformed(tree, where, "with a bad shape (rank " + std::to_string(t.ndim) + ")");
    for (int32_t d = 0; d < t.ndim; ++d)
      if (t.shape[d] < 0) malformed(tree, where, "with a negative dimension");
  }
  if (v->kind == XRT_VALUE_TENSOR) {
    if (!dtype_valid(t.dtype))
      malformed(tree, where, "with unknown dtype " + std::to_string(static_cast<int32_t>(t.dtype)));
    TensorRef made(tensor_create(tree.device, t.dtype, t.ndim, t.shape));
    if (tensor_nbytes(made.get()) > 0) {
      if (!t.data) malformed(tree, where, "as a tensor with NULL data");
      TensorRef source(tensor_wrap(tree.host, t.dtype, t.ndim, t.shape, nullptr, t.data,
                                   nullptr, nullptr));
      tensor_copy(made.get(), source.get());
    }
    out->owned_tensor = std::move(made);
    pub.tensor = out->owned_tensor.get();
    *type = tensor_type_name(t.dtype);
    return out;
  }
  if (v->kind == XRT_VALUE_STRINGS) {
    const int64_t n = checked_numel(t.ndim, t.shape);
    if (n > 0 && (!v->strings || !v->lengths))
      malformed(tree, where, "as a string tensor with NULL strings or lengths");
    out->shape_store.assign(t.shape, t.shape + t.ndim);
    out->string_store.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      if (!v->strings[i] && v->lengths[i] != 0) malformed(tree, where, "with a NULL string");
      out->string_store.emplace_back(v->strings[i] ? v->strings[i] : "", v->lengths[i]);
    }
    for (const std::string& s : out->string_store) {
      out->string_ptrs.push_back(s.data());
      out->length_store.push_back(s.size());
    }
    pub.ndim = t.ndim;
    pub.shape = out->shape_store.data();
    pub.strings = out->string_ptrs.data();
    pub.lengths = out->length_store.data();
    *type = "tensor(string)";
    return out;
  }
  if (v->num_items > 0 && !v->items)
    malformed(tree, where, "with " + std::to_string(v->num_items) + " items but NULL items");
  if (v->kind == XRT_VALUE_MAP && v->num_items != 2)
    malformed(tree, where, "as a map of " + std::to_string(v->num_items) + " items (not 2)");
  if (v->kind == XRT_VALUE_OPTIONAL && v->num_items > 1)
    malformed(tree, where, "as an optional of " + std::to_string(v->num_items) + " items");
  std::vector<std::string> types(v->num_items);
  for (size_t i = 0; i < v->num_items; ++i) {
    out->children.push_back(copy_tree(tree, v->items[i], where + " item " + std::to_string(i),
                                      depth + 1, &types[i]));
    out->item_ptrs.push_back(out->children.back().get());
  }
  pub.items = out->item_ptrs.data();
  pub.num_items = out->item_ptrs.size();
  if (v->kind == XRT_VALUE_SEQUENCE) {
    for (size_t i = 1; i < types.size(); ++i)
      if (types[i] != types[0]) malformed(tree, where, "as a sequence mixing " + types[0] + " and " + types[i]);
    *type = "seq(" + (types.empty() ? std::string("?") : types[0]) + ")";
  } else if (v->kind == XRT_VALUE_OPTIONAL) {
    *type = "optional(" + (types.empty() ? std::string("?") : types[0]) + ")";
  } else {
    const xrt_value_t* keys = pub.items[0];
    const xrt_value_t* values = pub.items[1];
    auto length = [](const xrt_value_t* x) -> int64_t {
      if (x->kind == XRT_VALUE_TENSOR) return x->tensor->ndim == 1 ? x->tensor->shape[0] : -1;
      if (x->kind == XRT_VALUE_STRINGS) return x->ndim == 1 ? x->shape[0] : -1;
      return -1;
    };
    if (length(keys) < 0 || length(keys) != length(values))
      malformed(tree, where, "as a map whose keys and values are not 1-D of one length");
    *type = map_type(types[0], types[1], where, "", XRT_ERROR_BACKEND);
  }
  return out;
}

}  // namespace

xrt_value_t* value_from_plugin(const xrt_plugin_value_t* value, xrt_device* device,
                               const char* backend, const std::string& name) {
  const PluginTree tree{device, Runtime::get().device_by_name("cpu"), backend};
  std::string type;
  return copy_tree(tree, value, "output '" + name + "'", 0, &type).release();
}

void value_release(xrt_value_t* value) { delete static_cast<OwnedValue*>(value); }

}  // namespace xrt
