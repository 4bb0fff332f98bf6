// Device side of attention.h's Masks: which keys a query sees (an index
// rule per batch entry) and the attn_mask value of one score, shared by the
// sm_80 forward and backward so both apply the same rule.
#ifndef XRT_CUDA_ATTENTION_KEY_RULE_H_
#define XRT_CUDA_ATTENTION_KEY_RULE_H_

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "attention/attention.h"

namespace xrt::cuda::attn {

// Query i sees keys [begin(i), end(i)), both non-decreasing in i.
struct KeyRule {
  int valid;   // keys that exist
  int offset;  // query i sits on key i + offset
  int window;  // -1: unlimited
  bool causal;

  __device__ __forceinline__ bool hidden(int query, int key) const {
    return key >= valid || (causal && key > query + offset) ||
           (window >= 0 && key < query + offset - window);
  }
  __device__ __forceinline__ int begin(int query) const {
    return window < 0 ? 0 : min(max(query + offset - window, 0), valid);
  }
  __device__ __forceinline__ int end(int query) const {
    return causal ? min(max(query + offset + 1, 0), valid) : valid;
  }
};

__device__ __forceinline__ KeyRule key_rule(const Masks& m, int batch, int lq, int lk,
                                            bool causal) {
  KeyRule r;
  r.valid = m.key_lengths ? min(max(__ldg(m.key_lengths + batch), 0), lk) : lk;
  r.offset = m.bottom_right ? r.valid - lq : 0;
  r.window = m.window;
  r.causal = causal;
  return r;
}

// attn_mask of one (batch, head): what it adds to score (query, key), in
// the scores' natural units (-inf where a bool mask is false).
template <class T>
struct MaskReader {
  const unsigned char* base;  // nullptr: no mask
  int dtype;
  int64_t row, col;  // strides in elements

  __device__ __forceinline__ float add(int query, int key) const {
    const int64_t at = query * row + key * col;
    switch (dtype) {
      case kMaskBool: return base[at] ? 0.0f : -INFINITY;
      case kMaskFloat32: return reinterpret_cast<const float*>(base)[at];
      default: return static_cast<float>(reinterpret_cast<const T*>(base)[at]);
    }
  }

  // add() / scale, the mask as the kernels add it to raw scores. Finite
  // values stay finite (at least floor, mask_floor() below): the CPU kernel
  // adds them in its own units, where even float's lowest stays finite, so
  // a row masked everywhere by such values weighs its keys alike there.
  __device__ __forceinline__ float scaled(int query, int key, float inv_scale,
                                          float floor) const {
    const float m = add(query, key);
    return m == -INFINITY ? m : fmaxf(m * inv_scale, floor);
  }
};

// The lowest raw score (with the mask added) that keeps score * scale_log2
// and the sums of two such products finite.
__device__ __forceinline__ float mask_floor(float scale_log2) {
  return -FLT_MAX * 0.25f / fmaxf(scale_log2, 1.0f);
}

template <class T>
__device__ __forceinline__ MaskReader<T> mask_reader(const Masks& m, int batch, int head) {
  MaskReader<T> r{nullptr, m.mask_dtype, m.mask_strides[2], m.mask_strides[3]};
  if (m.attn_mask) {
    const int64_t size = m.mask_dtype == kMaskBool ? 1 : m.mask_dtype == kMaskFloat32 ? 4 : 2;
    r.base = static_cast<const unsigned char*>(m.attn_mask) +
             (batch * m.mask_strides[0] + head * m.mask_strides[1]) * size;
  }
  return r;
}

}  // namespace xrt::cuda::attn

#endif  // XRT_CUDA_ATTENTION_KEY_RULE_H_
