// Value trees of every ONNX kind (xrt_value_t) crossing the C API and the
// plugin boundary: callers' trees checked and viewed the way a plugin reads
// them, plugins' trees checked and copied into trees the caller owns. A
// malformed tree from either side is a typed error, never a crash.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "device.h"
#include "tensor.h"
#include "xpuruntime/xpuruntime_plugin.h"

namespace xrt {

// ONNX Runtime's name of a tensor type: "tensor(float)".
std::string tensor_type_name(xrt_dtype_t dtype);

// Whether a value of type `given` may go where the model expects `want`;
// '?' in `given` (an empty sequence, an absent optional) fits any type.
bool type_fits(const std::string& given, const std::string& want);

// Plugin views of caller trees, owning every array and contiguous copy the
// views point into until it is destroyed.
class InputValues {
 public:
  // Checks the tree given for input `name` and returns its view; `type`
  // receives its type ("seq(tensor(float))"). Tensors must be on `device`.
  const xrt_plugin_value_t* add(const xrt_value_t* value, const xrt_device* device,
                                const std::string& name, std::string* type);

 private:
  const xrt_plugin_value_t* view(const xrt_value_t* value, const xrt_device* device,
                                 const std::string& where, int depth, std::string* type);
  std::deque<xrt_plugin_value_t> nodes_;
  std::deque<std::vector<const xrt_plugin_value_t*>> items_;
  std::vector<TensorRef> tensors_;
};

// A copy of a plugin's output tree owned by the caller (tensors on
// `device`, copied from host memory); throws BackendError when the tree is
// malformed, naming `backend` and the output.
xrt_value_t* value_from_plugin(const xrt_plugin_value_t* value, xrt_device* device,
                               const char* backend, const std::string& name);
// Drops a tree value_from_plugin made.
void value_release(xrt_value_t* value);

// A caller-owned output tree, released on scope exit unless taken.
struct ValueDeleter {
  void operator()(xrt_value_t* v) const { value_release(v); }
};
using ValuePtr = std::unique_ptr<xrt_value_t, ValueDeleter>;

}  // namespace xrt
