// "attention": softmax(q k^T * scale [+ causal mask]) v per (batch, head).
// Queries are processed in blocks and keys in tiles with a running
// (online) softmax, so memory stays O(block) whatever Lk is; both products of
// a tile go through the blocked GEMM. Scores and accumulators use float
// (double for float64).
//
// "attention_lse" also writes each query's log-sum-exp, m + log(l) of the
// running max and sum.
//
// Edge cases: Lq == 0 or Dv == 0 gives an empty output (nothing to do, but
// the lse for Dv == 0); Lk == 0 gives zeros, the value of an empty weighted
// sum, as torch does (and lse -inf).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "attention_shape.h"
#include "gemm.h"
#include "kernels.h"
#include "kernel_util.h"
#include "thread_pool.h"

namespace xrt::cpu {
namespace {

constexpr int64_t kKeyTile = 128;

template <class T>
class QueryBlock {
  using C = compute_t<T>;

 public:
  QueryBlock(const AttentionDims& dims, int64_t block)
      : dims_(dims),
        q_(static_cast<size_t>(block * dims.d)),
        kt_(static_cast<size_t>(dims.d * kKeyTile)),
        v_(std::is_same_v<T, C> ? 0 : static_cast<size_t>(kKeyTile * dims.dv)),
        s_(static_cast<size_t>(block * kKeyTile)),
        pv_(static_cast<size_t>(block * dims.dv)),
        acc_(static_cast<size_t>(block * dims.dv)),
        m_(static_cast<size_t>(block)),
        l_(static_cast<size_t>(block)),
        correction_(static_cast<size_t>(block)) {}

  // Queries [i0, i0 + rows) of one (batch, head); q, k, v, out and lse
  // (nullptr: not wanted) point at it.
  void run(const T* q, const T* k, const T* v, T* out, float* lse, int64_t i0, int64_t rows,
           C scale, bool causal) {
    const int64_t d = dims_.d, dv = dims_.dv;
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t c = 0; c < d; ++c) q_[i * d + c] = load(q + (i0 + i) * d + c) * scale;
    }
    std::fill(m_.begin(), m_.begin() + rows, -std::numeric_limits<C>::infinity());
    std::fill(l_.begin(), l_.begin() + rows, C(0));
    std::fill(acc_.begin(), acc_.begin() + rows * dv, C(0));
    // Under the causal mask query i sees keys 0..i, so later tiles are skipped.
    const int64_t key_end = causal ? std::min(dims_.lk, i0 + rows) : dims_.lk;
    for (int64_t j0 = 0; j0 < key_end; j0 += kKeyTile) {
      const int64_t cols = std::min(kKeyTile, key_end - j0);
      const C* vt = load_tile(k + j0 * d, v + j0 * dv, cols);
      gemm_blocked(rows, cols, d, q_.data(), d, kt_.data(), cols, s_.data(), cols, false);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t visible = causal ? std::clamp<int64_t>(i0 + i + 1 - j0, 0, cols) : cols;
        softmax_row(i, visible, cols);
      }
      gemm_blocked(rows, dv, cols, s_.data(), cols, vt, dv, pv_.data(), dv, false);
      for (int64_t i = 0; i < rows; ++i) {
        C* a = acc_.data() + i * dv;
        const C* p = pv_.data() + i * dv;
        const C corr = correction_[i];
        for (int64_t c = 0; c < dv; ++c) a[c] = a[c] * corr + p[c];
      }
    }
    for (int64_t i = 0; i < rows; ++i) {
      const C inv = C(1) / l_[i];
      const C* a = acc_.data() + i * dv;
      T* o = out + (i0 + i) * dv;
      for (int64_t c = 0; c < dv; ++c) store(o + c, a[c] * inv);
      if (lse) lse[i0 + i] = static_cast<float>(m_[i] + std::log(l_[i]));
    }
  }

 private:
  // Transposes the K tile to (d, cols) for the score product and returns the
  // V tile in the compute type (converted only for half dtypes).
  const C* load_tile(const T* k, const T* v, int64_t cols) {
    const int64_t d = dims_.d, dv = dims_.dv;
    for (int64_t j = 0; j < cols; ++j) {
      for (int64_t c = 0; c < d; ++c) kt_[c * cols + j] = load(k + j * d + c);
    }
    if constexpr (std::is_same_v<T, C>) {
      return v;
    } else {
      for (int64_t i = 0; i < cols * dv; ++i) v_[i] = load(v + i);
      return v_.data();
    }
  }

  // Turns the scores of row i into probabilities relative to the row's
  // running max (masked ones to 0) and updates its running sum; the factor
  // that rescales the row's earlier accumulation goes to correction_[i].
  void softmax_row(int64_t i, int64_t visible, int64_t cols) {
    C* s = s_.data() + i * cols;
    if (visible == 0) {
      std::fill(s, s + cols, C(0));
      correction_[i] = C(1);
      return;
    }
    C tile_max = s[0];
    for (int64_t j = 1; j < visible; ++j) tile_max = std::max(tile_max, s[j]);
    const C m_new = std::max(m_[i], tile_max);
    C sum = 0;
    for (int64_t j = 0; j < visible; ++j) {
      s[j] = std::exp(s[j] - m_new);
      sum += s[j];
    }
    std::fill(s + visible, s + cols, C(0));
    correction_[i] = std::exp(m_[i] - m_new);
    m_[i] = m_new;
    l_[i] = l_[i] * correction_[i] + sum;
  }

  AttentionDims dims_;
  std::vector<C> q_, kt_, v_, s_, pv_, acc_, m_, l_, correction_;
};

template <class T>
void attention(const xrt_kernel_context_t* ctx) {
  using C = compute_t<T>;
  const xrt_kernel_tensor_t& tq = ctx->inputs[0];
  const xrt_kernel_tensor_t& tv = ctx->inputs[2];
  const AttentionDims dims = attention_dims(tq, ctx->inputs[1], tv);
  T* out = static_cast<T*>(ctx->outputs[0].data);
  // attention_lse: the log-sum-exp of each query's scores too.
  float* lse = ctx->num_outputs > 1 ? static_cast<float*>(ctx->outputs[1].data) : nullptr;
  if (dims.bh == 0 || dims.lq == 0 || (dims.dv == 0 && !lse)) return;
  if (dims.lk == 0) {
    const int64_t n = dims.bh * dims.lq * dims.dv;
    for (int64_t i = 0; i < n; ++i) store(out + i, C(0));
    if (lse) std::fill(lse, lse + dims.bh * dims.lq, -std::numeric_limits<float>::infinity());
    return;
  }
  const T* q = static_cast<const T*>(tq.data);
  const T* k = static_cast<const T*>(ctx->inputs[1].data);
  const T* v = static_cast<const T*>(tv.data);
  const bool causal = attr_int(ctx, "causal", 0) != 0;
  const C scale = static_cast<C>(attention_scale(ctx, dims));
  const int64_t block = query_block(dims);
  const int64_t q_blocks = (dims.lq + block - 1) / block;
  // Tasks of at least ~kTaskWork multiply-adds, so tiny heads stay inline.
  constexpr int64_t kTaskWork = 1 << 16;
  const int64_t grain = kTaskWork / (block * dims.lk * (dims.d + dims.dv) + 1) + 1;
  parallel_for(0, dims.bh * q_blocks, grain, [&](int64_t t0, int64_t t1) {
    QueryBlock<T> qb(dims, block);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t h = t / q_blocks;
      const int64_t i0 = (t % q_blocks) * block;
      qb.run(q + h * dims.lq * dims.d, k + h * dims.lk * dims.d, v + h * dims.lk * dims.dv,
             out + h * dims.lq * dims.dv, lse ? lse + h * dims.lq : nullptr, i0,
             std::min(block, dims.lq - i0), scale, causal);
    }
  });
}

}  // namespace

xrt_status_t run_attention(const xrt_kernel_context_t* ctx) noexcept {
  return guarded(ctx, [&] {
    return dispatch_float(ctx, ctx->outputs[0].dtype, [&](auto tag) {
      attention<typename decltype(tag)::type>(ctx);
      return XRT_OK;
    });
  });
}

}  // namespace xrt::cpu
