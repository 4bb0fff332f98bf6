// One call of a runtime op on torch tensors, and the runtime's errors as
// the Python layer's typed exceptions: what every kernel of native/ uses.
#pragma once

#include <Python.h>

#include <ATen/core/Tensor.h>

#include <xpuruntime/xpuruntime.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace xrt_torch {

using at::Tensor;
using OptTensor = std::optional<Tensor>;

// Set once by register_kernels (module.cpp): torch's DLPack exchange
// table (for its current stream) and the Python layer's status -> class
// table.
void set_runtime_bridge(const DLPackExchangeAPI* exchange, PyObject* error_classes);

// Raises the runtime's typed Python error (xrt.InvalidArgument, ...) with
// `message`; torch hands it to the caller unchanged, from the dispatcher
// and from the autograd engine's threads alike.
[[noreturn]] void raise_error(xrt_status_t status, const std::string& message);
[[noreturn]] void invalid(const std::string& message);

// Inputs cross over through DLPack without copies; outputs come back as
// torch tensors sharing the runtime's memory; on CUDA the op runs on
// torch's current stream of the first input's device. Every handle is
// released on every path.
class RuntimeCall {
 public:
  static constexpr size_t kMaxOutputs = 3;

  explicit RuntimeCall(const char* op) : op_(op) {}
  RuntimeCall(const RuntimeCall&) = delete;
  RuntimeCall& operator=(const RuntimeCall&) = delete;
  ~RuntimeCall();

  void input(const Tensor& tensor);
  void input(const OptTensor& tensor);
  void attr(const char* name, int64_t value);
  void attr(const char* name, double value);
  std::vector<Tensor> run(size_t num_outputs);

 private:
  xrt_attr_t& attr_slot(const char* name, xrt_attr_type_t type);

  const char* op_;
  // attention_backward takes 8 inputs, attention_varlen_backward 6 attributes.
  std::array<xrt_tensor_t*, 8> inputs_{};
  size_t num_inputs_ = 0;
  std::array<xrt_attr_t, 6> attrs_{};
  size_t num_attrs_ = 0;
  DLDevice device_{kDLCPU, 0};
  bool has_device_ = false;
  xrt_stream_t* stream_ = nullptr;
};

}  // namespace xrt_torch
