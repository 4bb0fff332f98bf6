// ONNX Runtime's IoBinding of a session, kept from one run to the next.
// Creating the binding and an OrtValue per input, and binding each, was
// most of a tiny model's run time; onnxruntime's own IO binding keeps all
// of it. A kept binding re-binds only the inputs whose memory, dtype or
// shape changed. Outputs the caller gave (xrt_session_run_into) stay bound
// the same way while the same outputs are asked for; outputs ORT allocates
// are bound afresh each run and cleared after it, since they are handed
// over to the caller and no run may write into an earlier run's.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ort_library.h"

namespace xrt::ort {

class KeptBinding {
 public:
  // `reuse_inputs` false re-binds every input every run: on a GPU, ORT may
  // copy an input to the device its node reads it on when it is bound, and
  // a kept copy would go stale when the caller's memory changes.
  KeptBinding(Owned<OrtIoBinding> binding, size_t num_inputs, bool reuse_inputs);
  OrtIoBinding* get() const { return binding_.get(); }
  // Binds input `index` to the tensor at `data` unless it is bound there
  // already with this dtype and shape. NULL or ORT's error.
  OrtStatus* bind_input(size_t index, const char* name, const OrtMemoryInfo* memory, void* data,
                        size_t bytes, xrt_dtype_t dtype, int32_t ndim, const int64_t* shape);
  // Starts binding a run's outputs, model outputs `indices` in order: the
  // outputs bound so far are kept when they are these, else cleared.
  void begin_outputs(const size_t* indices, size_t count);
  // Binds output `position` of the run (model output `name`) to the
  // caller's tensor at `data` unless it is bound there already.
  OrtStatus* bind_given_output(size_t position, const char* name, const OrtMemoryInfo* memory,
                               void* data, size_t bytes, xrt_dtype_t dtype, int32_t ndim,
                               const int64_t* shape);
  // Binds output `position` to ORT's allocation on `memory`'s device.
  OrtStatus* bind_allocated_output(size_t position, const char* name,
                                   const OrtMemoryInfo* memory);
  // After a run whose outputs were handed over: the binding lets them go.
  void clear_outputs();

 private:
  struct Bound {
    const void* data = nullptr;
    xrt_dtype_t dtype{};
    int32_t ndim = -1;  // -1: nothing bound
    std::array<int64_t, XRT_MAX_DIMS> shape{};
  };
  // Binds `name` to a value over the caller's memory and records it.
  OrtStatus* bind_value(Bound& bound, const char* name, const OrtMemoryInfo* memory, void* data,
                        size_t bytes, xrt_dtype_t dtype, int32_t ndim, const int64_t* shape,
                        bool is_input);
  Owned<OrtIoBinding> binding_;
  std::vector<Bound> inputs_;
  std::vector<size_t> output_indices_;  // the model outputs bound, in order
  std::vector<Bound> outputs_;          // per position: the caller's tensor, or ndim -1
  bool reuse_inputs_;
};

// A session's idle binding. A run takes it (or, while another run holds it,
// makes its own) and gives it back when it succeeded; a failed run's
// binding may be half bound and is dropped.
class BindingSlot {
 public:
  BindingSlot() = default;
  BindingSlot(const BindingSlot&) = delete;
  BindingSlot& operator=(const BindingSlot&) = delete;
  ~BindingSlot() { delete idle_.exchange(nullptr); }
  std::unique_ptr<KeptBinding> take() {
    return std::unique_ptr<KeptBinding>(idle_.exchange(nullptr));
  }
  void give_back(std::unique_ptr<KeptBinding> binding);

 private:
  std::atomic<KeptBinding*> idle_{nullptr};
};

}  // namespace xrt::ort
