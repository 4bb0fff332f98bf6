// Caching allocator every backend's raw memory goes through.
//
// Requests are rounded up to a size class (four classes per power of two, so
// at most 25% is wasted) and freed blocks are kept per class for reuse until
// empty_cache(). One mutex guards a pool: an uncontended alloc/free pair is a
// lock, a vector pop and a push.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "xpuruntime/xpuruntime.h"

namespace xrt {

// What a device provides: raw memory and its release. alloc returns nullptr
// when the device is out of memory.
struct RawAllocator {
  virtual ~RawAllocator() = default;
  virtual void* alloc(size_t nbytes) = 0;
  virtual void free(void* ptr, size_t nbytes) = 0;
};

class MemoryPool {
 public:
  struct Block {
    void* ptr;
    size_t size;  // size class, the bytes reserved
    bool in_use;
  };

  MemoryPool(RawAllocator* raw, std::string device_name);
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // Throws OutOfMemory (with the stats in the message) when even an emptied
  // cache cannot satisfy the request.
  Block* allocate(size_t nbytes);
  void release(Block* block);
  // For callers that only kept the pointer (xrt_memory_free).
  void release_pointer(void* ptr);

  void empty_cache();
  void reset_peak();
  xrt_memory_stats_t stats();

  static size_t size_class(size_t nbytes);

 private:
  void release_locked(Block* block);
  void empty_cache_locked();

  RawAllocator* raw_;
  std::string device_name_;
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<Block*>> cached_;  // by size class
  std::unordered_map<void*, Block*> blocks_;                // every reserved block
  xrt_memory_stats_t stats_{};
};

}  // namespace xrt
