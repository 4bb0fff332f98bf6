#include "memory_pool.h"

#include <algorithm>

#include "error.h"

namespace xrt {

namespace {
constexpr size_t kMinBlock = 64;
}

MemoryPool::MemoryPool(RawAllocator* raw, std::string device_name)
    : raw_(raw), device_name_(std::move(device_name)) {
  stats_.struct_size = sizeof(stats_);
}

MemoryPool::~MemoryPool() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& entry : blocks_) {
    raw_->free(entry.second->ptr, entry.second->size);
    delete entry.second;
  }
}

size_t MemoryPool::size_class(size_t nbytes) {
  if (nbytes <= kMinBlock) return kMinBlock;
  // Four classes between consecutive powers of two: step = 2^(k-2).
  int k = 63 - __builtin_clzll(static_cast<unsigned long long>(nbytes - 1));
  const size_t step = std::max(size_t{1} << (k - 2), kMinBlock);
  return (nbytes + step - 1) / step * step;
}

MemoryPool::Block* MemoryPool::allocate(size_t nbytes) {
  if (nbytes > (size_t{1} << 62))
    fail(XRT_ERROR_OUT_OF_MEMORY, "cannot allocate ", nbytes, " bytes on ", device_name_);
  const size_t size = size_class(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  Block* block = nullptr;
  auto cached = cached_.find(size);
  if (cached != cached_.end() && !cached->second.empty()) {
    block = cached->second.back();
    cached->second.pop_back();
    ++stats_.num_cache_hits;
  } else {
    void* ptr = raw_->alloc(size);
    if (!ptr) {
      // Cached blocks of other classes may be what stands in the way.
      empty_cache_locked();
      ptr = raw_->alloc(size);
    }
    if (!ptr)
      fail(XRT_ERROR_OUT_OF_MEMORY, "out of memory on ", device_name_, ": cannot allocate ",
           nbytes, " bytes (", stats_.allocated_bytes, " bytes allocated, ",
           stats_.reserved_bytes, " reserved)");
    block = new Block{ptr, size, false};
    blocks_.emplace(ptr, block);
    ++stats_.num_device_allocs;
    stats_.reserved_bytes += size;
    stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  }
  block->in_use = true;
  ++stats_.num_allocs;
  stats_.allocated_bytes += block->size;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  return block;
}

void MemoryPool::release(Block* block) {
  std::lock_guard<std::mutex> lock(mutex_);
  release_locked(block);
}

void MemoryPool::release_pointer(void* ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = blocks_.find(ptr);
  if (it == blocks_.end() || !it->second->in_use)
    fail(XRT_ERROR_INVALID_ARGUMENT, "pointer ", ptr, " is not a live allocation of ",
         device_name_);
  release_locked(it->second);
}

void MemoryPool::release_locked(Block* block) {
  block->in_use = false;
  ++stats_.num_frees;
  stats_.allocated_bytes -= block->size;
  cached_[block->size].push_back(block);
}

void MemoryPool::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  empty_cache_locked();
}

void MemoryPool::empty_cache_locked() {
  for (auto& entry : cached_) {
    for (Block* block : entry.second) {
      blocks_.erase(block->ptr);
      raw_->free(block->ptr, block->size);
      stats_.reserved_bytes -= block->size;
      delete block;
    }
    entry.second.clear();
  }
}

void MemoryPool::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

xrt_memory_stats_t MemoryPool::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace xrt
