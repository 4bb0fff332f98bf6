// One (sequence, head) of an attention problem as the CPU kernels see it:
// where its rows are, which keys each query sees, and the mask added to its
// scores. Dense, packed (varlen) and decoding calls all become lists of
// these, run by forward_heads (attention.cpp) and backward_heads
// (attention_backward.cpp).
#ifndef XRT_CPU_ATTENTION_HEAD_H_
#define XRT_CPU_ATTENTION_HEAD_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "half.h"
#include "kernel_util.h"

namespace xrt::cpu {

// The keys query i sees: [begin(i), end(i)), both non-decreasing in i.
struct KeyRange {
  int64_t valid = 0;   // keys that exist (key_lengths[b], or all of them)
  int64_t offset = 0;  // query i sits on key i + offset (bottom-right: valid - lq)
  bool causal = false;
  int64_t window = -1;  // keys before that one still seen; -1: all

  int64_t begin(int64_t i) const {
    return window < 0 ? 0 : std::clamp(i + offset - window, int64_t{0}, valid);
  }
  int64_t end(int64_t i) const {
    return causal ? std::clamp(i + offset + 1, int64_t{0}, valid) : valid;
  }
};

// attn_mask of one head: bool (false: -inf) or a float added to score (i, j).
struct MaskView {
  const void* data = nullptr;  // nullptr: no mask
  xrt_dtype_t dtype = XRT_BOOL;
  int64_t row = 0, col = 0;  // strides in elements (0 where broadcast)

  template <class C>
  C add(int64_t i, int64_t j) const {
    const int64_t at = i * row + j * col;
    switch (dtype) {
      case XRT_BOOL:
        return static_cast<const uint8_t*>(data)[at] ? C(0) : -std::numeric_limits<C>::infinity();
      case XRT_FLOAT32: return static_cast<C>(static_cast<const float*>(data)[at]);
      case XRT_FLOAT64: return static_cast<C>(static_cast<const double*>(data)[at]);
      case XRT_FLOAT16: return static_cast<C>(load(static_cast<const float16_t*>(data) + at));
      default: return static_cast<C>(load(static_cast<const bfloat16_t*>(data) + at));
    }
  }
};

// The dense ops' attn_mask, broadcast to (B, H, Lq, Lk) by the schema.
struct DenseMasks {
  const xrt_kernel_tensor_t* mask = nullptr;  // nullptr: none

  MaskView head(int64_t b, int64_t h) const {
    MaskView m;
    if (!mask) return m;
    const size_t esize = mask->dtype == XRT_BOOL ? 1 : mask->dtype == XRT_FLOAT32 ? 4
                         : mask->dtype == XRT_FLOAT64 ? 8 : 2;
    const int64_t at = b * mask->strides[0] + h * mask->strides[1];
    m.data = static_cast<const char*>(mask->data) + at * static_cast<int64_t>(esize);
    m.dtype = mask->dtype;
    m.row = mask->strides[2];
    m.col = mask->strides[3];
    return m;
  }
};

inline DenseMasks dense_masks(const xrt_kernel_context_t* ctx, size_t index) {
  return {ctx->inputs[index].data ? &ctx->inputs[index] : nullptr};
}

// key_lengths (inputs[index], absent or (B,) int32) must lie in [0, lk].
inline xrt_status_t check_key_lengths(const xrt_kernel_context_t* ctx, size_t index, int64_t lk) {
  const xrt_kernel_tensor_t& t = ctx->inputs[index];
  if (!t.data) return XRT_OK;
  const int32_t* n = static_cast<const int32_t*>(t.data);
  for (int64_t b = 0; b < t.shape[0]; ++b) {
    if (n[b] < 0 || n[b] > lk) {
      return fail(ctx, XRT_ERROR_INVALID_ARGUMENT,
                  "key_lengths[%lld] is %d, expected 0 to %lld (the key length)",
                  static_cast<long long>(b), n[b], static_cast<long long>(lk));
    }
  }
  return XRT_OK;
}

// Row strides are in elements; lse has one float per query (stride 1).
template <class T>
struct HeadOperands {
  const T* q;
  const T* k;
  const T* v;
  int64_t q_stride, k_stride, v_stride;
  int64_t lq, lk;
  KeyRange keys;
  MaskView mask;
  T* out;  // forward: the output; backward: dq (q_stride)
  int64_t out_stride;
  float* lse;  // forward: written when not nullptr
  // Backward only: dO and the forward's output (both grad_stride), its lse.
  const T* grad = nullptr;
  const T* given_out = nullptr;
  const float* given_lse = nullptr;
  int64_t grad_stride = 0;
  // Forward only, for decoding. Rows of `group` query heads that share k
  // and v: row i is query position i / group of head i % group, the heads
  // q_head_stride and out_head_stride elements apart. Keys and values in a
  // paged cache: key j is at row block_table[j / block_size] * block_size
  // + j % block_size.
  int64_t group = 1;
  int64_t q_head_stride = 0, out_head_stride = 0;
  const int32_t* block_table = nullptr;
  int64_t block_size = 0;

  int64_t position(int64_t i) const { return i / group; }
  const T* q_row(int64_t i) const { return q + position(i) * q_stride + i % group * q_head_stride; }
  T* out_row(int64_t i) const {
    return out + position(i) * out_stride + i % group * out_head_stride;
  }
  int64_t key_row(int64_t j) const {
    return block_table ? int64_t{block_table[j / block_size]} * block_size + j % block_size : j;
  }
};

// Scores laid out one column per query (x: keys j0, j0 + 1, ... down,
// `width` queries across) of keys a query does not see become -inf: query
// c sees keys [lo[c], hi[c]).
template <class C>
void hide_unseen_keys(C* x, int64_t keys, int64_t width, int64_t j0, const int64_t* lo,
                      const int64_t* hi) {
  constexpr C kNegInf = -std::numeric_limits<C>::infinity();
  for (int64_t j = 0; j < keys; ++j) {
    const int64_t key = j0 + j;
    C* xj = x + j * width;
    for (int64_t c = 0; c < width; ++c) xj[c] = key >= lo[c] && key < hi[c] ? xj[c] : kNegInf;
  }
}

// The longest query and key lengths among heads (0 and 0 for none): what
// the query blocks of forward_heads and backward_heads are sized for.
struct LongestHead {
  int64_t lq = 0, lk = 0;
};

template <class T>
LongestHead longest_head(const std::vector<HeadOperands<T>>& heads) {
  LongestHead longest;
  for (const HeadOperands<T>& h : heads) {
    longest.lq = std::max(longest.lq, h.lq);
    longest.lk = std::max(longest.lk, h.lk);
  }
  return longest;
}

// Where the key gradients of heads [first, first + count) go: they share
// k and v (a group of grouped-query heads), so their dk and dv are summed.
template <class T>
struct KeyGradTarget {
  T* dk;
  T* dv;
  int64_t dk_stride, dv_stride;
  int64_t first, count;
};

template <class T>
void forward_heads(const std::vector<HeadOperands<T>>& heads, int64_t d, int64_t dv,
                   double scale);

template <class T>
void backward_heads(const std::vector<HeadOperands<T>>& heads,
                    const std::vector<KeyGradTarget<T>>& targets, int64_t d, int64_t dv,
                    double scale);

// The mask attributes: causal, window_left, causal_align (1: bottom-right).
struct MaskAttrs {
  bool causal;
  int64_t window;
  bool bottom_right;
};

inline MaskAttrs mask_attrs(const xrt_kernel_context_t* ctx, int64_t causal_default = 0) {
  return {attr_int(ctx, "causal", causal_default) != 0, attr_int(ctx, "window_left", -1),
          attr_int(ctx, "causal_align", 0) == 1};
}

inline KeyRange key_range(const MaskAttrs& m, int64_t lq, int64_t valid) {
  KeyRange r;
  r.valid = valid;
  r.offset = m.bottom_right ? valid - lq : 0;
  r.causal = m.causal;
  r.window = m.window;
  return r;
}

}  // namespace xrt::cpu

#endif  // XRT_CPU_ATTENTION_HEAD_H_
