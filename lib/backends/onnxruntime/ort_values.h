// Between ORT's values and types and the runtime's: element types, type
// names ("seq(tensor(float))"), and value trees of every kind both ways.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "ort_library.h"
#include "xpuruntime_plugin.h"

namespace xrt::ort {

// The xrt dtype of an ONNX element type; false for one it cannot hold.
bool dtype_of(int element, xrt_dtype_t* out);
// The ONNX element type of a valid xrt dtype.
int element_of(xrt_dtype_t dtype);
// ONNX's name of an element type ("float", "string").
const char* element_name(int element);
// ORT's name of a value type ("map(int64,tensor(float))"); Unsupported for
// kinds the runtime does not carry (opaque, sparse tensors).
xrt_status_t type_name(const OrtTypeInfo* info, std::string* out, char* error, size_t capacity);

// A new ORT value holding input `name`'s `value`; tensors are wrapped in
// place (their memory described by `memory`). Values made along the way go
// into `made`, which must outlive the run.
xrt_status_t value_to_ort(const xrt_plugin_value_t* value, const char* name,
                          const OrtMemoryInfo* memory,
                          std::vector<Owned<OrtValue>>* made, OrtValue** out, char* error,
                          size_t capacity);

// A run's output as a value tree, pointing into storage this owns.
class OutputTree {
 public:
  // `optional`: the model's output is optional (ORT's value may hold none).
  xrt_status_t build(OrtValue* value, bool optional, const xrt_plugin_value_t** out,
                     char* error, size_t capacity);

 private:
  xrt_status_t node(OrtValue* value, int depth, const xrt_plugin_value_t** out, char* error,
                    size_t capacity);
  xrt_plugin_value_t& new_node(xrt_value_kind_t kind);
  std::deque<xrt_plugin_value_t> nodes_;
  std::deque<std::vector<const xrt_plugin_value_t*>> items_;
  std::deque<std::vector<int64_t>> shapes_;
  std::deque<std::string> bytes_;
  std::deque<std::vector<const char*>> strings_;
  std::deque<std::vector<size_t>> lengths_;
  std::vector<Owned<OrtValue>> parts_;
};

}  // namespace xrt::ort
