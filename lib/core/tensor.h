// Tensors: metadata fixed at creation, an atomic reference count, and
// memory that is a block of the device's pool (host memory), or released by
// a deleter: the device's table for memory the tensor allocated there, the
// caller's for memory it wraps.
#pragma once

#include <atomic>
#include <cstdint>

#include "device.h"
#include "memory_pool.h"
#include "xpuruntime/xpuruntime.h"

struct xrt_tensor {
  std::atomic<int64_t> refcount{1};
  xrt_device* device = nullptr;
  xrt_dtype_t dtype = XRT_FLOAT32;
  int32_t ndim = 0;
  int64_t shape[XRT_MAX_DIMS] = {};
  int64_t strides[XRT_MAX_DIMS] = {};  // in elements
  void* data = nullptr;
  int64_t numel = 1;
  bool contiguous = true;
  bool read_only = false;
  // At most one owner of the memory: a pool block, or a deleter.
  xrt::MemoryPool::Block* block = nullptr;
  xrt_deleter_t deleter = nullptr;
  void* deleter_context = nullptr;
};

namespace xrt {

// Checks ndim and extents; returns the element count (throws on overflow).
int64_t checked_numel(int32_t ndim, const int64_t* shape);
// Checks ndim and extents (dtype is checked where it enters the library);
// returns the bytes such a contiguous tensor takes (throws when they
// overflow).
size_t checked_nbytes(xrt_dtype_t dtype, int32_t ndim, const int64_t* shape);
std::string shape_string(int32_t ndim, const int64_t* shape);
void contiguous_strides(int32_t ndim, const int64_t* shape, int64_t* strides);
size_t tensor_nbytes(const xrt_tensor* t);

// `stream` is the plugin stream the memory is first used on (NULL: the
// device's default stream); the host ignores it. `strides` (NULL:
// contiguous) must be a permutation of the contiguous ones: the tensor
// takes numel elements either way.
xrt_tensor* tensor_create(xrt_device* device, xrt_dtype_t dtype, int32_t ndim,
                          const int64_t* shape, void* stream = nullptr,
                          const int64_t* strides = nullptr);
xrt_tensor* tensor_wrap(xrt_device* device, xrt_dtype_t dtype, int32_t ndim, const int64_t* shape,
                        const int64_t* strides, void* data, xrt_deleter_t deleter, void* context);
void tensor_retain(xrt_tensor* t);
void tensor_release(xrt_tensor* t);

// The device a copy between two devices runs on: the one whose memory is
// not host memory (the destination when neither or both are).
const xrt_device* copy_device(const xrt_device* dst, const xrt_device* src);

// Copies contents between tensors of equal shape and dtype, any strides,
// on any pair of devices a plugin connects; queued on `stream` (a plugin
// stream of the device side, NULL: its default stream).
void tensor_copy(xrt_tensor* dst, const xrt_tensor* src, void* stream = nullptr);
// Fills the tensor's memory with zero bytes.
void tensor_fill_zero(xrt_tensor* t, void* stream = nullptr);
// New reference: src when contiguous, else a contiguous copy.
xrt_tensor* tensor_contiguous(const xrt_tensor* src, void* stream = nullptr);

// Owning reference that releases on scope exit.
class TensorRef {
 public:
  TensorRef() = default;
  explicit TensorRef(xrt_tensor* t) : t_(t) {}
  TensorRef(TensorRef&& other) noexcept : t_(other.t_) { other.t_ = nullptr; }
  TensorRef& operator=(TensorRef&& other) noexcept {
    std::swap(t_, other.t_);
    return *this;
  }
  TensorRef(const TensorRef&) = delete;
  ~TensorRef() { tensor_release(t_); }
  xrt_tensor* get() const { return t_; }
  xrt_tensor* operator->() const { return t_; }
  xrt_tensor* release() {
    xrt_tensor* t = t_;
    t_ = nullptr;
    return t;
  }

 private:
  xrt_tensor* t_ = nullptr;
};

}  // namespace xrt
