#include "ort_binding.h"

#include <algorithm>
#include <utility>

#include "ort_values.h"

namespace xrt::ort {

KeptBinding::KeptBinding(Owned<OrtIoBinding> binding, size_t num_inputs, bool reuse_inputs)
    : binding_(std::move(binding)), inputs_(num_inputs), reuse_inputs_(reuse_inputs) {}

OrtStatus* KeptBinding::bind_input(size_t index, const char* name, const OrtMemoryInfo* memory,
                                   void* data, size_t bytes, xrt_dtype_t dtype, int32_t ndim,
                                   const int64_t* shape) {
  Bound& bound = inputs_[index];
  if (reuse_inputs_ && bound.data == data && bound.dtype == dtype && bound.ndim == ndim &&
      std::equal(shape, shape + ndim, bound.shape.begin())) {
    return nullptr;
  }
  return bind_value(bound, name, memory, data, bytes, dtype, ndim, shape, true);
}

void KeptBinding::begin_outputs(const size_t* indices, size_t count) {
  if (output_indices_.size() == count && std::equal(indices, indices + count,
                                                    output_indices_.begin())) {
    return;
  }
  clear_outputs();
  output_indices_.assign(indices, indices + count);
  outputs_.assign(count, Bound{});
}

OrtStatus* KeptBinding::bind_given_output(size_t position, const char* name,
                                          const OrtMemoryInfo* memory, void* data, size_t bytes,
                                          xrt_dtype_t dtype, int32_t ndim,
                                          const int64_t* shape) {
  Bound& bound = outputs_[position];
  if (bound.data == data && bound.dtype == dtype && bound.ndim == ndim &&
      std::equal(shape, shape + ndim, bound.shape.begin())) {
    return nullptr;
  }
  return bind_value(bound, name, memory, data, bytes, dtype, ndim, shape, false);
}

OrtStatus* KeptBinding::bind_allocated_output(size_t position, const char* name,
                                              const OrtMemoryInfo* memory) {
  outputs_[position].ndim = -1;
  return api().BindOutputToDevice(binding_.get(), name, memory);
}

void KeptBinding::clear_outputs() {
  api().ClearBoundOutputs(binding_.get());
  output_indices_.clear();
  outputs_.clear();
}

OrtStatus* KeptBinding::bind_value(Bound& bound, const char* name, const OrtMemoryInfo* memory,
                                   void* data, size_t bytes, xrt_dtype_t dtype, int32_t ndim,
                                   const int64_t* shape, bool is_input) {
  bound.ndim = -1;  // unknown until bound again
  const Functions& f = api();
  OrtValue* raw = nullptr;
  OrtStatus* status = f.CreateTensorWithDataAsOrtValue(memory, data, bytes, shape,
                                                       static_cast<size_t>(ndim),
                                                       element_of(dtype), &raw);
  if (status) return status;
  // The binding holds its own reference to the value (not to the memory,
  // which stays the caller's; it is used only while a run uses it, and a
  // run binds it again unless it is the same tensor).
  Owned<OrtValue> value(raw);
  status = is_input ? f.BindInput(binding_.get(), name, value.get())
                    : f.BindOutput(binding_.get(), name, value.get());
  if (status) return status;
  bound.data = data;
  bound.dtype = dtype;
  bound.ndim = ndim;
  std::copy(shape, shape + ndim, bound.shape.begin());
  return nullptr;
}

void BindingSlot::give_back(std::unique_ptr<KeptBinding> binding) {
  KeptBinding* empty = nullptr;
  if (idle_.compare_exchange_strong(empty, binding.get())) binding.release();
}

}  // namespace xrt::ort
