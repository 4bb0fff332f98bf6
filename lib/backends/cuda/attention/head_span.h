// Where the rows of one (batch, head) of an attention call lie, dense or
// packed (attention.h's Packing), for the sm_80 forward and backward.
#ifndef XRT_CUDA_ATTENTION_HEAD_SPAN_H_
#define XRT_CUDA_ATTENTION_HEAD_SPAN_H_

#include <cstdint>

#include "attention/attention.h"

namespace xrt::cuda::attn {

struct HeadSpan {
  int64_t q;     // element offset of row 0 in q (the output, dO, dq)
  int64_t kv;    // of row 0 in k (v, dk, dv)
  int64_t rows;  // of query 0 in lse and delta
  // Elements from one row to the next, from this q head to the next (in q
  // and in lse); int, as the token counts of cu_seqlens are.
  int q_stride, kv_stride, next_q, next_rows;
  int lq, lk;
};

// q head bh (= b * heads + h) of a call with `group` q heads per kv head;
// dense calls have lq queries and lk keys per head.
template <int D>
__device__ __forceinline__ HeadSpan head_span(const Packing& p, int64_t bh, int heads, int group,
                                              int lq, int lk) {
  HeadSpan s;
  if (!p.cu_q) {
    s.q = bh * lq * D;
    s.kv = bh / group * lk * D;
    s.rows = bh * lq;
    s.q_stride = s.kv_stride = D;
    s.next_q = lq * D;
    s.next_rows = lq;
    s.lq = lq;
    s.lk = lk;
    return s;
  }
  const int b = static_cast<int>(bh / heads), h = static_cast<int>(bh % heads);
  const int heads_kv = heads / group;
  const int q0 = __ldg(p.cu_q + b), k0 = __ldg(p.cu_k + b);
  s.lq = __ldg(p.cu_q + b + 1) - q0;
  s.lk = __ldg(p.cu_k + b + 1) - k0;
  s.q = (static_cast<int64_t>(q0) * heads + h) * D;
  s.kv = (static_cast<int64_t>(k0) * heads_kv + h / group) * D;
  s.rows = h * p.total_q + q0;
  s.q_stride = heads * D;
  s.kv_stride = heads_kv * D;
  s.next_q = D;
  s.next_rows = static_cast<int>(p.total_q);
  return s;
}

}  // namespace xrt::cuda::attn

#endif  // XRT_CUDA_ATTENTION_HEAD_SPAN_H_
