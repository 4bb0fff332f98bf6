#include "pinned_pool.h"

#include <algorithm>
#include <string>

#include "cuda_status.h"

namespace xrt::cuda {

PinnedPool& PinnedPool::get() {
  static PinnedPool* pool = new PinnedPool();  // outlives static teardown
  return *pool;
}

size_t PinnedPool::size_class(size_t nbytes) {
  constexpr size_t kMin = 512;
  if (nbytes <= kMin) return kMin;
  // Four classes per power of two: at most a quarter is wasted.
  const int k = 63 - __builtin_clzll(static_cast<unsigned long long>(nbytes - 1));
  const size_t step = std::max(size_t{1} << (k - 2), kMin);
  return (nbytes + step - 1) / step * step;
}

bool PinnedPool::idle(Block* block) {
  while (!block->pending.empty()) {
    const cudaError_t state = cudaEventQuery(block->pending.back());
    if (state == cudaErrorNotReady) {
      cudaGetLastError();
      return false;
    }
    cudaEventDestroy(block->pending.back());
    block->pending.pop_back();
  }
  return true;
}

xrt_status_t PinnedPool::allocate(size_t nbytes, void** out) {
  const size_t size = size_class(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  auto& cached = cached_[size];
  for (size_t i = cached.size(); i-- > 0;) {
    Block* block = cached[i];
    if (!idle(block)) continue;
    cached.erase(cached.begin() + static_cast<std::ptrdiff_t>(i));
    block->in_use = true;
    *out = block->ptr;
    return XRT_OK;
  }
  void* ptr = nullptr;
  const xrt_status_t status = check(cudaHostAlloc(&ptr, size, cudaHostAllocPortable),
                                    ("page-locked allocation of " + std::to_string(nbytes) +
                                     " bytes").c_str());
  if (status != XRT_OK) return status;
  blocks_.emplace(ptr, new Block{ptr, size, true, {}});
  *out = ptr;
  return XRT_OK;
}

xrt_status_t PinnedPool::free(void* ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = blocks_.find(ptr);
  if (it == blocks_.end() || !it->second->in_use)
    return set_error(XRT_ERROR_INVALID_ARGUMENT, "pointer is not a live page-locked allocation");
  it->second->in_use = false;
  cached_[it->second->size].push_back(it->second);
  return XRT_OK;
}

void PinnedPool::record_use(const void* ptr, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = blocks_.find(const_cast<void*>(ptr));
  if (it == blocks_.end()) return;
  // Created on the current device, the one the copy's stream belongs to.
  cudaEvent_t event = nullptr;
  if (cudaEventCreateWithFlags(&event, cudaEventDisableTiming) != cudaSuccess) {
    cudaGetLastError();
    cudaStreamSynchronize(stream);  // without an event, wait instead
    return;
  }
  cudaEventRecord(event, stream);
  it->second->pending.push_back(event);
}

}  // namespace xrt::cuda
