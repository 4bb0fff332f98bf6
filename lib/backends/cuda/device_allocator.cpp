#include "device_allocator.h"

#include <algorithm>
#include <string>

#include "cuda_status.h"

namespace xrt::cuda {

namespace {

constexpr size_t kAlignment = 512;
constexpr size_t kSmallRequest = size_t{1} << 20;  // served from 2 MiB segments
constexpr size_t kSmallSegment = size_t{2} << 20;
constexpr size_t kMediumRequest = size_t{10} << 20;  // served from 20 MiB segments
constexpr size_t kMediumSegment = size_t{20} << 20;
constexpr size_t kLargeRounding = size_t{2} << 20;

size_t segment_size(size_t size) {
  if (size <= kSmallRequest) return kSmallSegment;
  if (size <= kMediumRequest) return kMediumSegment;
  return (size + kLargeRounding - 1) / kLargeRounding * kLargeRounding;
}

}  // namespace

bool DeviceAllocator::ByStreamSize::operator()(const Block* a, const Block* b) const {
  if (a->stream != b->stream) return a->stream < b->stream;
  if (a->size != b->size) return a->size < b->size;
  return a->ptr < b->ptr;
}

DeviceAllocator::DeviceAllocator(int device) : device_(device) {
  stats_.struct_size = sizeof stats_;
}

size_t DeviceAllocator::round_size(size_t nbytes) {
  if (nbytes == 0) return kAlignment;
  return (nbytes + kAlignment - 1) / kAlignment * kAlignment;
}

DeviceAllocator::Block* DeviceAllocator::find_free(FreeSet& pool, size_t size,
                                                   cudaStream_t stream) {
  Block key{nullptr, size, stream, false, false};
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  // Keep big cached blocks for big requests: a small request does not
  // split a block more than twice its size from the large pool.
  Block* block = *it;
  if (!block->small && size < kMediumRequest && block->size > 2 * size + kMediumSegment)
    return nullptr;
  pool.erase(it);
  return block;
}

bool DeviceAllocator::stream_has_passed(cudaStream_t stream) {
  auto it = pass_events_.find(stream);
  if (it == pass_events_.end()) {
    cudaEvent_t event = nullptr;
    if (cudaEventCreateWithFlags(&event, cudaEventDisableTiming) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    it = pass_events_.emplace(stream, event).first;
  }
  // Recorded now, the event follows every use of blocks freed before now.
  if (cudaEventRecord(it->second, stream) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  const cudaError_t state = cudaEventQuery(it->second);
  if (state != cudaSuccess) cudaGetLastError();  // cudaErrorNotReady is not an error
  return state == cudaSuccess;
}

DeviceAllocator::Block* DeviceAllocator::find_passed_elsewhere(FreeSet& pool, size_t size,
                                                               cudaStream_t stream) {
  std::vector<cudaStream_t> others;
  for (Block* b : pool)
    if (b->stream != stream && (others.empty() || others.back() != b->stream))
      others.push_back(b->stream);
  for (cudaStream_t other : others) {
    Block key{nullptr, size, other, false, false};
    auto it = pool.lower_bound(&key);
    if (it == pool.end() || (*it)->stream != other) continue;
    if (!stream_has_passed(other)) continue;
    Block* block = *it;
    pool.erase(it);
    block->stream = stream;
    return block;
  }
  return nullptr;
}

DeviceAllocator::Block* DeviceAllocator::new_segment(size_t size, bool small, cudaStream_t stream,
                                                     cudaError_t* error) {
  const size_t bytes = segment_size(size);
  void* ptr = nullptr;
  *error = cudaMalloc(&ptr, bytes);
  if (*error != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  auto* block = new Block{static_cast<char*>(ptr), bytes, stream, false, small};
  segments_.push_back(block);
  ++stats_.num_device_allocs;
  stats_.reserved_bytes += bytes;
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  return block;
}

void DeviceAllocator::split(Block* block, size_t size) {
  const size_t rest = block->size - size;
  // Small segments split down to the alignment; large ones keep remainders
  // of at least one small segment so splitting does not fragment them.
  if (rest < (block->small ? kAlignment : kSmallRequest)) return;
  auto* tail = new Block{block->ptr + size, rest, block->stream, false, block->small};
  tail->prev = block;
  tail->next = block->next;
  if (block->next) block->next->prev = tail;
  block->next = tail;
  block->size = size;
  pool_for(tail->small).insert(tail);
}

xrt_status_t DeviceAllocator::allocate(size_t nbytes, cudaStream_t stream, void** out) {
  if (nbytes > (size_t{1} << 60))
    return set_error(XRT_ERROR_OUT_OF_MEMORY,
                     "cannot allocate " + std::to_string(nbytes) + " bytes on cuda:" +
                         std::to_string(device_));
  const size_t size = round_size(nbytes);
  const bool small = size <= kSmallRequest;
  std::lock_guard<std::mutex> lock(mutex_);
  FreeSet& pool = pool_for(small);
  Block* block = find_free(pool, size, stream);
  if (!block) block = find_passed_elsewhere(pool, size, stream);
  if (block) {
    ++stats_.num_cache_hits;
  } else {
    DeviceGuard guard(device_);
    cudaError_t error = cudaSuccess;
    block = new_segment(size, small, stream, &error);
    if (!block) {
      // Cached segments may be what stands in the way.
      release_cached_segments();
      block = new_segment(size, small, stream, &error);
    }
    if (!block)
      return set_error(XRT_ERROR_OUT_OF_MEMORY,
                       "out of memory on cuda:" + std::to_string(device_) + ": cannot allocate " +
                           std::to_string(nbytes) + " bytes (" + cudaGetErrorName(error) + "; " +
                           stats_text() + ")");
  }
  split(block, size);
  block->in_use = true;
  in_use_.emplace(block->ptr, block);
  ++stats_.num_allocs;
  stats_.allocated_bytes += block->size;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  *out = block->ptr;
  return XRT_OK;
}

void DeviceAllocator::merge_into_free(Block* block) {
  FreeSet& pool = pool_for(block->small);
  Block* next = block->next;
  if (next && !next->in_use && next->stream == block->stream) {
    pool.erase(next);
    block->size += next->size;
    block->next = next->next;
    if (next->next) next->next->prev = block;
    delete next;
  }
  Block* prev = block->prev;
  if (prev && !prev->in_use && prev->stream == block->stream) {
    pool.erase(prev);
    prev->size += block->size;
    prev->next = block->next;
    if (block->next) block->next->prev = prev;
    delete block;
    block = prev;
  }
  pool.insert(block);
}

xrt_status_t DeviceAllocator::free(void* ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = in_use_.find(ptr);
  if (it == in_use_.end())
    return set_error(XRT_ERROR_INVALID_ARGUMENT, "pointer is not a live allocation of cuda:" +
                                                     std::to_string(device_));
  Block* block = it->second;
  in_use_.erase(it);
  block->in_use = false;
  ++stats_.num_frees;
  stats_.allocated_bytes -= block->size;
  merge_into_free(block);
  return XRT_OK;
}

void DeviceAllocator::release_cached_segments() {
  DeviceGuard guard(device_);
  // cudaFree waits for the device, so no queued work still uses the memory.
  std::vector<Block*> kept;
  for (Block* first : segments_) {
    if (first->in_use || first->next) {
      kept.push_back(first);
      continue;
    }
    pool_for(first->small).erase(first);
    cudaFree(first->ptr);
    stats_.reserved_bytes -= first->size;
    delete first;
  }
  segments_.swap(kept);
}

xrt_status_t DeviceAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_segments();
  return XRT_OK;
}

void DeviceAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

xrt_memory_stats_t DeviceAllocator::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void DeviceAllocator::forget_stream(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Free blocks of the stream are re-keyed, so take them out of the sets first.
  for (FreeSet* pool : {&small_free_, &large_free_}) {
    std::vector<Block*> moved;
    for (auto it = pool->begin(); it != pool->end();) {
      if ((*it)->stream == stream) {
        moved.push_back(*it);
        it = pool->erase(it);
      } else {
        ++it;
      }
    }
    for (Block* b : moved) {
      b->stream = nullptr;
      pool->insert(b);
    }
  }
  for (auto& entry : in_use_)
    if (entry.second->stream == stream) entry.second->stream = nullptr;
  auto event = pass_events_.find(stream);
  if (event != pass_events_.end()) {
    cudaEventDestroy(event->second);
    pass_events_.erase(event);
  }
}

std::string DeviceAllocator::stats_text() const {
  return std::to_string(stats_.allocated_bytes) + " bytes allocated, " +
         std::to_string(stats_.reserved_bytes) + " reserved by xpuruntime on cuda:" +
         std::to_string(device_);
}

}  // namespace xrt::cuda
