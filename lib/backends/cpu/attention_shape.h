// What the CPU attention kernels (forward and backward) share: the query
// block size that keeps every thread busy.
#ifndef XRT_CPU_ATTENTION_SHAPE_H_
#define XRT_CPU_ATTENTION_SHAPE_H_

#include <algorithm>
#include <cstdint>

#include "kernel_util.h"
#include "thread_pool.h"

namespace xrt::cpu {

struct AttentionDims {
  int64_t bh, lq, lk, d, dv;  // batch*heads, query and key lengths, head dims of q/k and v
};

// Queries per block: up to max_block, smaller when there are too few
// (batch, head) pairs to keep every thread busy.
inline int64_t query_block(const AttentionDims& dims, int64_t max_block) {
  constexpr int64_t kMinQueryBlock = 8;
  const int64_t want_tasks = int64_t{4} * max_threads();
  return std::clamp((dims.lq * dims.bh + want_tasks - 1) / want_tasks, kMinQueryBlock,
                    std::max(max_block, kMinQueryBlock));
}

}  // namespace xrt::cpu

#endif  // XRT_CPU_ATTENTION_SHAPE_H_
