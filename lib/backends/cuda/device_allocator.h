// Stream-ordered caching allocator for one GPU.
//
// Memory comes from cudaMalloc in segments (2 MiB for small requests, 20 MiB
// for medium ones, the rounded size for large ones) and is handed out as
// blocks split from them; freed neighbours merge again. Each block belongs
// to the stream it was allocated on: a freed block is reused at once by
// later requests on that stream (stream order makes it safe), and by
// another stream only after an event recorded on the old stream says that
// stream has passed all work queued before the free. When cudaMalloc fails
// the cache is returned to the device and the request retried once.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "xpuruntime/xpuruntime.h"

namespace xrt::cuda {

class DeviceAllocator {
 public:
  explicit DeviceAllocator(int device);
  ~DeviceAllocator() = default;  // memory lives until the process exits
  DeviceAllocator(const DeviceAllocator&) = delete;
  DeviceAllocator& operator=(const DeviceAllocator&) = delete;

  // XRT_OK or XRT_ERROR_OUT_OF_MEMORY (message with the stats).
  xrt_status_t allocate(size_t nbytes, cudaStream_t stream, void** out);
  xrt_status_t free(void* ptr);
  xrt_status_t empty_cache();
  void reset_peak();
  xrt_memory_stats_t stats();
  // Before a stream is destroyed: its blocks move to the default stream.
  void forget_stream(cudaStream_t stream);

  static size_t round_size(size_t nbytes);

 private:
  struct Block {
    char* ptr;
    size_t size;
    cudaStream_t stream;
    bool in_use;
    bool small;  // from a small-request segment
    Block* prev = nullptr;  // neighbours within the segment
    Block* next = nullptr;
  };
  struct ByStreamSize {
    bool operator()(const Block* a, const Block* b) const;
  };
  using FreeSet = std::set<Block*, ByStreamSize>;

  FreeSet& pool_for(bool small) { return small ? small_free_ : large_free_; }
  Block* find_free(FreeSet& pool, size_t size, cudaStream_t stream);
  Block* find_passed_elsewhere(FreeSet& pool, size_t size, cudaStream_t stream);
  bool stream_has_passed(cudaStream_t stream);
  Block* new_segment(size_t size, bool small, cudaStream_t stream, cudaError_t* error);
  void split(Block* block, size_t size);
  void merge_into_free(Block* block);
  void release_cached_segments();  // caller holds mutex_
  std::string stats_text() const;

  int device_;
  std::mutex mutex_;
  FreeSet small_free_, large_free_;
  std::unordered_map<void*, Block*> in_use_;
  std::vector<Block*> segments_;  // each segment's first block
  std::unordered_map<cudaStream_t, cudaEvent_t> pass_events_;
  xrt_memory_stats_t stats_{};
};

}  // namespace xrt::cuda
