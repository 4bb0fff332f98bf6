// Page-locked host memory, cached by size class. Copies queued from or to
// a pinned block record an event; the block is handed out again only once
// every such event has passed, so releasing a tensor right after an
// asynchronous copy cannot let the next owner overwrite data in flight.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "xpuruntime/xpuruntime.h"

namespace xrt::cuda {

class PinnedPool {
 public:
  static PinnedPool& get();

  xrt_status_t allocate(size_t nbytes, void** out);
  xrt_status_t free(void* ptr);
  // Called by copies: `ptr` (the start of a pinned block, or anything else,
  // which is ignored) is in use by work queued on `stream`.
  void record_use(const void* ptr, cudaStream_t stream);

 private:
  struct Block {
    void* ptr;
    size_t size;
    bool in_use;
    std::vector<cudaEvent_t> pending;  // copies that may still touch it
  };
  static size_t size_class(size_t nbytes);
  bool idle(Block* block);  // caller holds mutex_

  std::mutex mutex_;
  std::unordered_map<void*, Block*> blocks_;
  std::unordered_map<size_t, std::vector<Block*>> cached_;
};

}  // namespace xrt::cuda
