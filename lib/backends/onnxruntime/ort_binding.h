// ONNX Runtime's IoBinding of a session, kept from one run to the next.
// Creating the binding and an OrtValue per input, and binding each, was
// most of a tiny model's run time; onnxruntime's own IO binding keeps all
// of it. A kept binding re-binds only the inputs whose memory, dtype or
// shape changed, and binds outputs afresh each run: outputs are handed over
// to the caller, so no run may write into an earlier run's.
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

 private:
  struct Bound {
    const void* data = nullptr;
    xrt_dtype_t dtype{};
    int32_t ndim = -1;  // -1: nothing bound
    std::array<int64_t, XRT_MAX_DIMS> shape{};
  };
  Owned<OrtIoBinding> binding_;
  std::vector<Bound> inputs_;
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
